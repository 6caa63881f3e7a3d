package changes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

// env is a real Postgres with the tenant schema migrated and a running Service.
type env struct {
	inst   *pgtest.Instance
	tenant *tenant.Tenant
	mgr    *tenantdb.Manager
	pool   *pgxpool.Pool // superuser pool for test setup
	svc    *Service
	stop   func()
}

func testLogger() *slog.Logger {
	if os.Getenv("CHANGES_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newEnv(tb testing.TB, setupSQL string) *env {
	tb.Helper()
	return newEnvWith(tb, pgtest.Options{}, setupSQL)
}

func newEnvWith(tb testing.TB, opts pgtest.Options, setupSQL string) *env {
	tb.Helper()
	inst := pgtest.StartWith(tb, opts)
	db := inst.CreateDatabase(tb, "tenant")
	tn := &tenant.Tenant{ExternalID: "dev-tenant", PostgresChanges: true,
		Database: &tenant.Database{Host: inst.Host, Port: inst.Port, Name: db, User: "postgres", SSLMode: "disable"}}
	mgr := tenantdb.NewManager(testLogger(), tenantdb.Options{JanitorInterval: -1, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	tb.Cleanup(mgr.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := mgr.Pool(ctx, tn); err != nil {
		tb.Fatalf("tenant pool: %v", err)
	}
	pool, err := pgxpool.New(ctx, inst.DSN(db))
	if err != nil {
		tb.Fatalf("pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	if setupSQL != "" {
		if _, err := pool.Exec(ctx, setupSQL); err != nil {
			tb.Fatalf("setup SQL: %v", err)
		}
	}
	e := &env{inst: inst, tenant: tn, mgr: mgr, pool: pool}
	e.start(tb)
	return e
}

// start runs a fresh Service (as a restarted node would).
func (e *env) start(tb testing.TB) {
	e.svc = NewService(e.mgr, AlwaysOwner{}, testLogger(), prometheus.NewRegistry(), Hooks{})
	e.run(tb)
}

// run runs e.svc (created by start or by the test).
func (e *env) run(tb testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.svc.Run(ctx); close(done) }()
	var once sync.Once
	e.stop = func() { once.Do(func() { cancel(); <-done }) }
	tb.Cleanup(e.stop)
}

func (e *env) exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// recorder is a Subscriber that records everything.
type recorder struct {
	mu      sync.Mutex
	changes []delivered
	system  []string
	notify  chan struct{}
}

type delivered struct {
	ids  []int64
	data string
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) PostgresChange(ids []int64, data json.RawMessage) {
	r.mu.Lock()
	r.changes = append(r.changes, delivered{ids: append([]int64(nil), ids...), data: string(data)})
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) System(status, message string) {
	r.mu.Lock()
	r.system = append(r.system, status+": "+message)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) signal() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitFor polls cond (under the lock) until it holds or the timeout passes.
func (r *recorder) waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			tb.Fatalf("timed out waiting for %s; system=%v changes=%d", what, r.system, len(r.changes))
		}
	}
}

func (r *recorder) waitSubscribed(tb testing.TB) {
	tb.Helper()
	r.waitFor(tb, "Subscribed to PostgreSQL", 20*time.Second, func() bool {
		for _, s := range r.system {
			if s == "ok: "+SubscribedMessage {
				return true
			}
		}
		return false
	})
}

func (r *recorder) waitChanges(tb testing.TB, n int) []delivered {
	tb.Helper()
	r.waitFor(tb, fmt.Sprintf("%d changes", n), 20*time.Second, func() bool { return len(r.changes) >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.changes...)
}

func (r *recorder) snapshot() ([]delivered, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.changes...), append([]string(nil), r.system...)
}

func mustBindings(tb testing.TB, raw string) []Binding {
	tb.Helper()
	bs, err := ParseBindings(json.RawMessage(raw))
	if err != nil {
		tb.Fatalf("ParseBindings(%s): %v", raw, err)
	}
	return bs
}

func (e *env) subscribe(tb testing.TB, claims map[string]any, raw string) (*recorder, []Binding) {
	tb.Helper()
	rec := newRecorder()
	bs := mustBindings(tb, raw)
	unsub := e.svc.Subscribe(context.Background(), e.tenant, claims, bs, rec)
	tb.Cleanup(unsub)
	return rec, bs
}

var commitTSRe = regexp.MustCompile(`"commit_timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`)

// normalize replaces the commit timestamp (checked for its format) with a fixed marker.
func normalize(data string) string {
	return commitTSRe.ReplaceAllString(data, `"commit_timestamp":"TS"`)
}

var anon = map[string]any{"role": "anon", "exp": 9999999999}
