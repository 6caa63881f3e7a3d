package changes

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const notesSQL = `
create table public.notes (id int4 primary key, owner text, body text);
alter table public.notes enable row level security;
grant select on public.notes to anon, authenticated;
create policy own_notes on public.notes for select to authenticated
  using (owner = (select current_setting('request.jwt.claims', true)::json->>'sub'));
alter publication supabase_realtime add table public.notes;
`

func TestRLSVisibility(t *testing.T) {
	e := newEnv(t, notesSQL)
	binding := `[{"event":"*","schema":"public","table":"notes"}]`
	alice, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": "alice"}, binding)
	alice2, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": "alice"}, binding)
	bob, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": "bob"}, binding)
	anonRec, _ := e.subscribe(t, anon, binding)
	for _, r := range []*recorder{alice, alice2, bob, anonRec} {
		r.waitSubscribed(t)
	}
	e.exec(t, `insert into public.notes values (1, 'alice', 'a'), (2, 'bob', 'b')`)
	e.exec(t, `insert into public.notes values (3, 'alice', 'c')`)
	// RLS is checked against the row as it is when the batch is processed ("visible now", as in
	// apply_rls), so the delete waits until the inserts were delivered.
	alice.waitChanges(t, 2)
	bob.waitChanges(t, 1)
	e.exec(t, `delete from public.notes where id = 2`)
	check := func(r *recorder, name string, want []string) {
		t.Helper()
		r.waitChanges(t, len(want))
		time.Sleep(100 * time.Millisecond)
		got, _ := r.snapshot()
		var ids []string
		for _, d := range got {
			ids = append(ids, idOf(d.data))
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("%s got %v, want %v", name, ids, want)
		}
	}
	check(alice, "alice", []string{"INSERT:1", "INSERT:3", "DELETE:2"})
	check(alice2, "alice2", []string{"INSERT:1", "INSERT:3", "DELETE:2"})
	check(bob, "bob", []string{"INSERT:2", "DELETE:2"})
	check(anonRec, "anon", []string{"DELETE:2"})
	// DELETE on an RLS table carries only the primary key in old_record.
	got, _ := anonRec.snapshot()
	if !strings.Contains(got[0].data, `"old_record":{"id":2}`) {
		t.Errorf("delete payload %s", got[0].data)
	}
}

const toastSQL = `
create table public.docs (id int4 primary key, big text, n int4);
create table public.docs_full (id int4 primary key, big text, n int4);
alter table public.docs_full replica identity full;
create table public.nopk (a int4, b text);
grant select on public.docs, public.docs_full, public.nopk to anon;
alter publication supabase_realtime add table public.docs, public.docs_full, public.nopk;
`

func TestToastAndReplicaIdentity(t *testing.T) {
	e := newEnv(t, toastSQL)
	rec, _ := e.subscribe(t, anon, `[{"event":"UPDATE","schema":"public"},{"event":"INSERT","schema":"public","table":"nopk"}]`)
	rec.waitSubscribed(t)
	big := `(select string_agg(md5(i::text), '') from generate_series(1, 400) i)`
	e.exec(t, `insert into public.docs values (1, `+big+`, 0)`)
	e.exec(t, `insert into public.docs_full values (1, `+big+`, 0)`)
	e.exec(t, `update public.docs set n = 1 where id = 1`)
	e.exec(t, `update public.docs_full set n = 1 where id = 1`)
	e.exec(t, `insert into public.nopk values (1, 'x')`)
	got := rec.waitChanges(t, 3)
	// Default identity: the unchanged TOASTed column is absent from record; old_record is the key.
	if d := got[0].data; strings.Contains(d, `"big"`+":\"") || !strings.Contains(d, `"old_record":{"id":1}`) || !strings.Contains(d, `"record":{"id":1,"n":1}`) {
		t.Errorf("default identity update: %s", d)
	}
	// FULL identity: the value is filled from the old image and old_record has every column.
	if d := got[1].data; !strings.Contains(d, `"record":{"id":1,"big":"c4ca4238`) || !strings.Contains(d, `"old_record":{"id":1,"big":"c4ca4238`) || !strings.Contains(d, `"n":0}`) {
		t.Errorf("full identity update: %.300s", d)
	}
	want := `{"columns":[],"commit_timestamp":null,"errors":["Error 400: Bad Request, no primary key"],"record":{},"schema":"public","table":"nopk","type":"INSERT"}`
	if got[2].data != want {
		t.Errorf("no-pk insert:\n got %s\nwant %s", got[2].data, want)
	}
}

const raisingPolicySQL = `
create table public.guarded (id int4 primary key, owner text);
alter table public.guarded enable row level security;
grant select on public.guarded to authenticated;
create function public.check_owner(o text) returns boolean language plpgsql stable as $$
begin
  if current_setting('request.jwt.claims', true)::json->>'sub' = 'broken' then
    raise exception 'policy failure for %', o;
  end if;
  return o = current_setting('request.jwt.claims', true)::json->>'sub';
end $$;
create policy guarded on public.guarded for select to authenticated using (public.check_owner(owner));
alter publication supabase_realtime add table public.guarded;
`

// TestRLSPolicyErrorIsCountedNotDelivered: a policy that raises for one claims group delivers
// nothing to that group, is counted as inconclusive, and does not affect other groups.
func TestRLSPolicyErrorIsCountedNotDelivered(t *testing.T) {
	e := newEnv(t, raisingPolicySQL)
	binding := `[{"event":"INSERT","schema":"public","table":"guarded"}]`
	ok, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": "alice"}, binding)
	broken, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": "broken"}, binding)
	ok.waitSubscribed(t)
	broken.waitSubscribed(t)
	e.exec(t, `insert into public.guarded values (1, 'alice'), (2, 'broken')`)
	e.exec(t, `insert into public.guarded values (3, 'alice')`)
	ok.waitChanges(t, 2)
	deadline := time.Now().Add(20 * time.Second)
	for testutil.ToFloat64(e.svc.metrics.rlsInconclusive.WithLabelValues("policy_error")) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := testutil.ToFloat64(e.svc.metrics.rlsInconclusive.WithLabelValues("policy_error")); n != 3 {
		t.Errorf("inconclusive policy_error = %v, want 3 (every row of the broken group)", n)
	}
	time.Sleep(100 * time.Millisecond)
	if got, _ := broken.snapshot(); len(got) != 0 {
		t.Errorf("broken group got %d changes, want none", len(got))
	}
	if got, _ := ok.snapshot(); len(got) != 2 || idOf(got[0].data) != "INSERT:1" || idOf(got[1].data) != "INSERT:3" {
		t.Errorf("alice got %v", got)
	}
}

const slowPolicySQL = `
create table public.slow (id int4 primary key, owner text);
alter table public.slow enable row level security;
grant select on public.slow to authenticated;
create function public.slow_owner(o text) returns boolean language plpgsql stable as $$
begin
  perform pg_sleep(0.3);
  return o = current_setting('request.jwt.claims', true)::json->>'sub';
end $$;
create policy slow on public.slow for select to authenticated using (public.slow_owner(owner));
alter publication supabase_realtime add table public.slow;
`

// TestRLSCheckConnectionLossLosesNothing: the RLS check's backend is terminated twice (the
// batched check and the group-by-group retry); that is not the policy's answer, so the change
// must not be dropped: the stream restarts and delivers it.
func TestRLSCheckConnectionLossLosesNothing(t *testing.T) {
	e := newEnv(t, slowPolicySQL)
	alice, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": "alice"}, `[{"event":"INSERT","schema":"public","table":"slow"}]`)
	alice.waitSubscribed(t)
	e.exec(t, `insert into public.slow values (1, 'alice')`)
	killed := map[int32]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(killed) < 2 && time.Now().Before(deadline) {
		var pids []int32
		err := e.pool.QueryRow(context.Background(), `select coalesce(array_agg(pid), '{}') from pg_stat_activity
			where state = 'active' and query like 'select k.i from unnest%' and pid <> pg_backend_pid()`).Scan(&pids)
		if err != nil {
			t.Fatalf("list RLS checks: %v", err)
		}
		for _, pid := range pids {
			if !killed[pid] {
				killed[pid] = true
				e.exec(t, "select pg_terminate_backend($1)", pid)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(killed) < 2 {
		t.Fatalf("terminated the RLS check %d times, want 2", len(killed))
	}
	// Generous: the stream restarts with backoff after each failed batch.
	waitDeliveries(t, alice, 1, 60*time.Second)
	got, _ := alice.snapshot()
	if len(got) != 1 || idOf(got[0].data) != "INSERT:1" {
		t.Errorf("alice got %v, want INSERT:1 once; slot and backends:\n%s", got, e.slotReport(t))
	}
	if n := testutil.CollectAndCount(e.svc.metrics.rlsInconclusive); n != 0 {
		t.Errorf("a lost connection was counted as an inconclusive policy answer (%d series)", n)
	}
}

// slotReport describes the tenant's replication slots and backends, for failure messages.
func (e *env) slotReport(t *testing.T) string {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `
select slot_name || ' active=' || active::text || ' confirmed=' || confirmed_flush_lsn::text ||
       ' restart=' || restart_lsn::text || ' wal=' || pg_current_wal_lsn()::text from pg_replication_slots
union all
select backend_type || ' ' || pid || ' ' || coalesce(state, '') || ' ' || left(query, 80)
from pg_stat_activity where backend_type in ('client backend', 'walsender')`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var l string
		_ = rows.Scan(&l)
		b.WriteString(l + "\n")
	}
	return b.String()
}
