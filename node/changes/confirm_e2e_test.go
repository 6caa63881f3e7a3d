package changes

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/prometheus/client_golang/prometheus"
)

// gatedPolicySQL: the RLS policy of public.gated waits for a shared advisory lock, so a test
// that holds the lock exclusively keeps the stream's RLS check (and the transaction) undelivered
// for as long as it likes.
const gatedPolicySQL = `
create table public.gated (id int4 primary key, owner text);
alter table public.gated enable row level security;
grant select on public.gated to authenticated;
create function public.gated_owner(o text) returns boolean language plpgsql stable as $$
begin
  perform pg_advisory_xact_lock_shared(4242);
  return o = current_setting('request.jwt.claims', true)::json->>'sub';
end $$;
create policy gated on public.gated for select to authenticated using (public.gated_owner(owner));
alter publication supabase_realtime add table public.gated;
`

// TestFreshStreamConfirmsNothingUndelivered: a restarted stream whose first transaction is still
// being delivered (its RLS check is blocked) must not confirm it in its standby statuses. The
// pglogrepl status update turns a zero flush position into the write position; a stream that
// reported what it had received as written confirmed the undelivered transaction on its first
// status, and the row was skipped for good when the delivery then failed (a lost row seen under
// load by TestRLSCheckConnectionLossLosesNothing). This test makes that order deterministic.
func TestFreshStreamConfirmsNothingUndelivered(t *testing.T) {
	e := newEnv(t, gatedPolicySQL)
	claims := map[string]any{"role": "authenticated", "sub": "alice"}
	binding := `[{"event":"INSERT","schema":"public","table":"gated"}]`
	first, _ := e.subscribe(t, claims, binding)
	first.waitSubscribed(t)
	e.stop()

	unlock := holdAdvisoryLock(t, e, 4242)
	defer unlock()
	var before pglogrepl.LSN
	if err := e.pool.QueryRow(context.Background(), "select pg_current_wal_lsn()").Scan(&before); err != nil {
		t.Fatalf("current lsn: %v", err)
	}
	e.exec(t, `insert into public.gated values (1, 'alice')`)

	// A restarted node: its subscriber is registered before the stream reads the slot.
	e.svc = NewService(e.mgr, AlwaysOwner{}, testLogger(), prometheus.NewRegistry(), Hooks{})
	alice := newRecorder()
	unsub := e.svc.Subscribe(context.Background(), e.tenant, claims, mustBindings(t, binding), alice)
	defer unsub()
	waitRegistered(t, e.svc, e.tenant.ExternalID)
	e.run(t)

	blockedAt := waitBlockedCheck(t, e)
	waitStatusAfter(t, e, blockedAt.Add(1500*time.Millisecond))
	var confirmed pglogrepl.LSN
	if err := e.pool.QueryRow(context.Background(),
		"select confirmed_flush_lsn from pg_replication_slots limit 1").Scan(&confirmed); err != nil {
		t.Fatalf("slot position: %v", err)
	}
	if confirmed > before {
		t.Errorf("the slot was confirmed to %s, past the undelivered insert (WAL was at %s before it); slot and backends:\n%s",
			confirmed, before, e.slotReport(t))
	}
	unlock()
	waitDeliveries(t, alice, 1, 30*time.Second)
	if got, _ := alice.snapshot(); len(got) != 1 || idOf(got[0].data) != "INSERT:1" {
		t.Errorf("alice got %v, want INSERT:1 once", got)
	}
}

// holdAdvisoryLock takes the exclusive advisory lock key on a connection of its own; the returned
// function releases it (idempotent).
func holdAdvisoryLock(t *testing.T, e *env, key int64) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", key); err != nil {
		conn.Release()
		t.Fatalf("advisory lock: %v", err)
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		_, _ = conn.Exec(ctx, "select pg_advisory_unlock($1)", key)
		conn.Release()
	}
}

// waitBlockedCheck waits until an RLS check is waiting for the advisory lock and returns when it
// was first seen.
func waitBlockedCheck(t *testing.T, e *env) time.Time {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := e.pool.QueryRow(context.Background(), `select count(*) from pg_stat_activity
			where wait_event_type = 'Lock' and wait_event = 'advisory' and pid <> pg_backend_pid()`).Scan(&n)
		if err != nil {
			t.Fatalf("list blocked checks: %v", err)
		}
		if n > 0 {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no RLS check waited for the advisory lock within 30s; slot and backends:\n%s", e.slotReport(t))
	return time.Time{}
}

// waitStatusAfter waits until the walsender received a standby status sent after at.
func waitStatusAfter(t *testing.T, e *env, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var reply *time.Time
		err := e.pool.QueryRow(context.Background(),
			"select max(reply_time) from pg_stat_replication").Scan(&reply)
		if err != nil {
			t.Fatalf("pg_stat_replication: %v", err)
		}
		if reply != nil && reply.After(at) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no standby status after %s within 30s; slot and backends:\n%s", at.Format(time.RFC3339Nano), e.slotReport(t))
}
