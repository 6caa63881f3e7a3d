package authz

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

const userID = "8d7f1a52-9d3b-4c6e-9a41-0e5c2b1f7a10"

// setup starts Postgres, connects a tenant through tenantdb (migrations + partitions) and installs
// the typical policies of docs/protocol.md#private-channels.
func setup(t *testing.T) (*pgtest.Instance, *pgxpool.Pool) { return setupTB(t) }

func setupTB(t testing.TB) (*pgtest.Instance, *pgxpool.Pool) {
	t.Helper()
	inst := pgtest.Start(t)
	inst.CreateDatabase(t, "tenant")
	m := tenantdb.NewManager(slog.New(slog.DiscardHandler), tenantdb.Options{})
	t.Cleanup(m.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := m.Pool(ctx, &tenant.Tenant{ExternalID: "t", Database: &tenant.Database{
		Host: inst.Host, Port: inst.Port, Name: "tenant", User: "postgres", SSLMode: "disable"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `
		create schema auth;
		create function auth.uid() returns uuid language sql stable as
		  $$ select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
		grant usage on schema auth to anon, authenticated;
		create policy "read room" on realtime.messages for select to authenticated
		  using (realtime.topic() = 'room1' and realtime.messages.extension in ('broadcast','presence'));
		create policy "write room" on realtime.messages for insert to authenticated
		  with check (realtime.topic() = 'room1' and realtime.messages.extension = 'broadcast');
		create policy "by user" on realtime.messages for select to authenticated
		  using (realtime.topic() = 'mine' and (select auth.uid())::text = '`+userID+`');
		create policy "by claim" on realtime.messages for select to authenticated
		  using (realtime.topic() = 'claims' and
		         coalesce((current_setting('request.jwt.claims', true)::jsonb ->> 'presence_read')::boolean, false)
		         and extension = 'presence');
		create policy "by header" on realtime.messages for select to authenticated
		  using (realtime.topic() = 'hdr' and current_setting('request.headers', true)::jsonb ->> 'x-team' = 'blue');
		create function public.trouble() returns boolean language plpgsql volatile as $$
		begin
		  if realtime.topic() = 'boom' then raise exception 'policy exploded'; end if;
		  if realtime.topic() = 'slow' then perform pg_sleep(5); end if;
		  return false;
		end $$;
		create policy "raises or sleeps" on realtime.messages for select to authenticated
		  using (public.trouble());`)
	if err != nil {
		t.Fatal(err)
	}
	return inst, pool
}

func req(topic string, claims map[string]any) Request {
	if claims == nil {
		claims = map[string]any{"role": "authenticated", "sub": userID}
	}
	return Request{Topic: topic, Claims: claims}
}

func TestReadWrite(t *testing.T) {
	t.Parallel()
	_, pool := setup(t)
	ctx := context.Background()
	cases := []struct {
		name           string
		req            Request
		presence       bool
		wantBR, wantPR bool
		wantBW, wantPW bool
	}{
		{"room1 allowed", req("room1", nil), true, true, true, true, false},
		{"room1 no presence check", req("room1", nil), false, true, false, true, false},
		{"room2 denied", req("room2", nil), true, false, false, false, false},
		{"anon denied on room1", req("room1", map[string]any{"role": "anon"}), true, false, false, false, false},
		{"sub matches", req("mine", nil), true, true, true, false, false},
		{"sub differs", req("mine", map[string]any{"role": "authenticated", "sub": "00000000-0000-0000-0000-000000000000"}), true, false, false, false, false},
		{"claim allows presence", req("claims", map[string]any{"role": "authenticated", "presence_read": true}), true, false, true, false, false},
		{"claim absent", req("claims", nil), true, false, false, false, false},
		{"header", Request{Topic: "hdr", Claims: map[string]any{"role": "authenticated"}, Headers: map[string]string{"x-team": "blue"}}, false, true, false, false, false},
		{"service_role has no policy", req("room1", map[string]any{"role": "service_role"}), true, false, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			br, pr, err := Read(ctx, pool, c.req, c.presence)
			if err != nil || br != c.wantBR || pr != c.wantPR {
				t.Errorf("Read = %v %v %v, want %v %v", br, pr, err, c.wantBR, c.wantPR)
			}
			bw, pw, err := Write(ctx, pool, c.req)
			if err != nil || bw != c.wantBW || pw != c.wantPW {
				t.Errorf("Write = %v %v %v, want %v %v", bw, pw, err, c.wantBW, c.wantPW)
			}
		})
	}
	var n int
	if err := pool.QueryRow(ctx, `select count(*) from realtime.messages`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("checks left %d rows (err %v)", n, err)
	}
}

func wantKind(t *testing.T, err error, k Kind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("err = %v, want kind %v", err, k)
	}
	return e
}

func TestErrors(t *testing.T) {
	t.Parallel()
	inst, pool := setup(t)
	ctx := context.Background()

	_, _, err := Read(ctx, pool, req("room1", map[string]any{"role": "nobody"}), false)
	e := wantKind(t, err, KindPolicy)
	if e.JoinReason("room1") != "Unauthorized: You do not have permissions to read from this Channel topic: room1" {
		t.Errorf("JoinReason = %q", e.JoinReason("room1"))
	}
	if s, m := e.REST(); s != http.StatusUnprocessableEntity || m != "RLS policy error" {
		t.Errorf("REST = %d %q", s, m)
	}
	_, _, err = Write(ctx, pool, req("room1", map[string]any{"role": "nobody"}))
	_ = wantKind(t, err, KindPolicy)
	_, _, err = Read(ctx, pool, req("boom", nil), false)
	_ = wantKind(t, err, KindPolicy)

	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = Read(tctx, pool, req("slow", nil), false)
	cancel()
	e = wantKind(t, err, KindQueryCanceled)
	if e.JoinReason("slow") != "QueryCanceled: canceling statement due to statement timeout" {
		t.Errorf("JoinReason = %q", e.JoinReason("slow"))
	}

	today := tenantdb.PartitionName(time.Now())
	if _, err := pool.Exec(ctx, `drop table realtime.`+today); err != nil {
		t.Fatal(err)
	}
	for name, check := range map[string]func() error{
		"read":  func() error { _, _, err := Read(ctx, pool, req("room1", nil), true); return err },
		"write": func() error { _, _, err := Write(ctx, pool, req("room1", nil)); return err },
	} {
		e := wantKind(t, check(), KindMissingPartition)
		if e.JoinReason("room1") != "MissingPartition: Realtime was unable to find the expected messages partition" {
			t.Errorf("%s: JoinReason = %q", name, e.JoinReason("room1"))
		}
		if s, m := e.REST(); s != 422 || m != "Missing messages partition" {
			t.Errorf("%s: REST = %d %q", name, s, m)
		}
	}
	if err := tenantdb.EnsurePartitions(ctx, pool); err != nil {
		t.Fatal(err)
	}

	// Every connection busy: the checkout times out.
	small, err := pgxpool.New(ctx, inst.DSN("tenant")+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	held, err := small.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, err = Read(tctx, small, req("room1", nil), false)
	cancel()
	held.Release()
	e = wantKind(t, err, KindPoolExhausted)
	if s, m := e.REST(); s != 429 || m != "Connection pool exhausted" || !strings.HasPrefix(e.JoinReason("x"), "IncreaseConnectionPool:") {
		t.Errorf("REST = %d %q", s, m)
	}

	// Backends outlive a killed postmaster for a moment; drop the idle ones so the check must
	// connect to the dead server.
	inst.Kill()
	pool.Reset()
	_, _, err = Read(ctx, pool, req("room1", nil), false)
	e = wantKind(t, err, KindUnavailable)
	if e.JoinReason("room1") != "Realtime was unable to connect to the project database" {
		t.Errorf("JoinReason = %q", e.JoinReason("room1"))
	}
	if s, m := e.REST(); s != 422 || m != "Tenant database unavailable" {
		t.Errorf("REST = %d %q", s, m)
	}
}
