package tenantdb

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/node/tenant"
)

func testTenant(inst *pgtest.Instance, db string) *tenant.Tenant {
	return &tenant.Tenant{ExternalID: "t-" + db, Database: &tenant.Database{
		Host: inst.Host, Port: inst.Port, Name: db, User: "postgres", SSLMode: "disable"}}
}

func newTestManager(t *testing.T, o Options) *Manager {
	m := NewManager(slog.New(slog.DiscardHandler), o)
	t.Cleanup(m.Close)
	return m
}

func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
	return e
}

func TestManagerConnectsMigratesAndShares(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	inst.CreateDatabase(t, "tenant")
	ten := testTenant(inst, "tenant")
	m := newTestManager(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Concurrent first callers share one attempt and get the same pool.
	pools := make([]*pgxpool.Pool, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range pools {
		wg.Add(1)
		go func() { defer wg.Done(); pools[i], errs[i] = m.Pool(ctx, ten) }()
	}
	wg.Wait()
	for i := range pools {
		if errs[i] != nil || pools[i] != pools[0] {
			t.Fatalf("caller %d: pool %p err %v (first %p)", i, pools[i], errs[i], pools[0])
		}
	}
	if got := pools[0].Config().MaxConns; got != 4 {
		t.Errorf("MaxConns = %d", got)
	}
	if pending, err := Pending(ctx, pools[0]); err != nil || pending {
		t.Fatalf("migrations pending=%v err=%v", pending, err)
	}
	today := PartitionName(time.Now())
	if got := queryStrings(t, pools[0], `select to_regclass('realtime.'||$1)::text`, today); got[0] == "" {
		t.Fatalf("partition %s missing", today)
	}
	apps := queryStrings(t, pools[0], `select application_name from pg_stat_activity where pid = pg_backend_pid()`)
	if apps[0] != AppConnect {
		t.Errorf("application_name = %q", apps[0])
	}
	if p, ok := m.Lookup(ten.ExternalID); !ok || p != pools[0] {
		t.Errorf("Lookup = %p %v", p, ok)
	}

	// A changed database configuration replaces the pool; Forget drops it.
	changed := *ten
	db := *ten.Database
	db.Region = "elsewhere"
	changed.Database = &db
	p2, err := m.Pool(ctx, &changed)
	if err != nil || p2 == pools[0] {
		t.Fatalf("after change: %p %v", p2, err)
	}
	m.Forget(ten.ExternalID)
	if _, ok := m.Lookup(ten.ExternalID); ok {
		t.Fatal("Lookup after Forget")
	}
}

func TestManagerUnreachableThenRecovers(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	inst.CreateDatabase(t, "tenant")
	ten := testTenant(inst, "tenant")
	m := newTestManager(t, Options{MinBackoff: time.Second, MaxBackoff: time.Second, MaxAttemptsPerSecond: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	inst.Kill()
	_, err := m.Pool(ctx, ten)
	e := wantCode(t, err, CodeUnableToConnect)
	if e.JoinReason() != "UnableToConnectToProject: Realtime was unable to connect to the project database" {
		t.Fatalf("JoinReason = %q", e.JoinReason())
	}
	// Inside the backoff window the failure is returned without a new attempt.
	_, err2 := m.Pool(ctx, ten)
	if !errors.Is(err2, e) && err2 != error(e) {
		t.Fatalf("within backoff got %v", err2)
	}
	if err := inst.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		pool, err := m.Pool(ctx, ten)
		if err == nil {
			if err := pool.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never recovered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestManagerErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now: connection refused

	refused := &tenant.Tenant{ExternalID: "refused", Database: &tenant.Database{
		Host: "127.0.0.1", Port: port, Name: "postgres", User: "postgres", SSLMode: "disable"}}
	m := newTestManager(t, Options{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxAttemptsPerSecond: 2})
	_, err = m.Pool(ctx, refused)
	_ = wantCode(t, err, CodeUnableToConnect)
	time.Sleep(5 * time.Millisecond)
	_, err = m.Pool(ctx, refused)
	_ = wantCode(t, err, CodeUnableToConnect)
	time.Sleep(5 * time.Millisecond)
	_, err = m.Pool(ctx, refused) // third attempt within one second
	e := wantCode(t, err, CodeConnectRateLimit)
	if e.JoinReason() != "DatabaseConnectionRateLimitReached: Too many database connections attempts per second" {
		t.Fatalf("JoinReason = %q", e.JoinReason())
	}

	_, err = m.Pool(ctx, &tenant.Tenant{ExternalID: "nodb"})
	_ = wantCode(t, err, CodeNoDatabase)
	_, err = m.Pool(ctx, &tenant.Tenant{ExternalID: "off", Suspend: true, Database: refused.Database})
	_ = wantCode(t, err, CodeDisabledForTenant)

	inst := pgtest.Start(t)
	greedy := newTestManager(t, Options{ReservedConns: 1000})
	_, err = greedy.Pool(ctx, testTenant(inst, "postgres"))
	e = wantCode(t, err, CodeLackOfConnections)
	if e.JoinReason() != "DatabaseLackOfConnections: Database can't accept more connections, Realtime won't connect" {
		t.Fatalf("JoinReason = %q", e.JoinReason())
	}
}

func TestConnString(t *testing.T) {
	cases := []struct {
		db   tenant.Database
		want string
	}{
		{tenant.Database{Host: "db.example", Port: 6543, Name: "app", User: "u", Password: "p@ss/w rd", SSLMode: "verify-full"},
			"postgres://u:p%40ss%2Fw%20rd@db.example:6543/app?application_name=realtime_connect&sslmode=verify-full"},
		{tenant.Database{Host: "::1", User: "postgres"},
			"postgres://postgres@[::1]:5432/postgres?application_name=realtime_connect&sslmode=require"},
	}
	for _, c := range cases {
		got := ConnString(&c.db, AppConnect)
		if got != c.want {
			t.Errorf("ConnString(%+v) = %s, want %s", c.db.Host, got, c.want)
		}
		if _, err := pgxpool.ParseConfig(got); err != nil {
			t.Errorf("pgx cannot parse %s: %v", got, err)
		}
	}
}

func TestCheckLogical(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	pool := testPool(t, inst, "postgres")
	if err := CheckLogical(context.Background(), pool); err != nil {
		t.Fatalf("logical server: %v", err)
	}
	err := walLevelError("replica")
	e := wantCode(t, err, CodeWalLevelNotLogical)
	if !strings.Contains(e.Message, `wal_level is "replica"`) || !strings.Contains(e.Message, "wal_level = logical") {
		t.Fatalf("message %q", e.Message)
	}
}
