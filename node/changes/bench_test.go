package changes

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/realtimeops/realtime/internal/pgtest"
)

// counter is a Subscriber that only counts (the channel layer's enqueue is similarly cheap).
type counter struct {
	n      atomic.Int64
	target int64
	done   chan struct{}
	once   sync.Once
}

func (c *counter) PostgresChange(ids []int64, data json.RawMessage) {
	if c.n.Add(1) == c.target {
		c.once.Do(func() { close(c.done) })
	}
}
func (c *counter) System(status, message string) {}

// cpuClock returns the CPU time used so far by this process and by the Postgres server.
func cpuClock(inst *pgtest.Instance) (node, pg time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	node = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	b, err := os.ReadFile(filepath.Join(inst.Dir, "data", "postmaster.pid"))
	if err != nil {
		return node, 0
	}
	master := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		pid := filepath.Base(filepath.Dir(p))
		if len(f) > 12 && (pid == master || f[1] == master) {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			k, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + k
		}
	}
	return node, time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}

func reportCPU(b *testing.B, inst *pgtest.Instance, n0, p0 time.Duration, elapsed time.Duration) {
	n1, p1 := cpuClock(inst)
	b.ReportMetric(float64(n1-n0)/float64(elapsed), "node-cpu-cores")
	b.ReportMetric(float64(p1-p0)/float64(elapsed), "pg-cpu-cores")
}

// stockServer is the benchmarks' Postgres: every durability setting at its default (fsync,
// full_page_writes, synchronous_commit=on), as on a user's server. The tests' default turns fsync
// off for speed, which makes commits (and so commit-to-client latency) unrealistically cheap.
var stockServer = pgtest.Options{Durable: true}

const benchSQL = `
create table public.bench (id int8 primary key, sent int8, body text, n int4);
grant select on public.bench to anon, authenticated;
alter publication supabase_realtime add table public.bench;
`

// BenchmarkDecodeThroughput: a backlog of 100,000 single-row inserts (in 100 transactions) is
// decoded, encoded and delivered to one subscriber; changes/s from one slot.
func BenchmarkDecodeThroughput(b *testing.B) {
	const total = 100000
	e := newEnvWith(b, stockServer, benchSQL)
	c := &counter{target: total, done: make(chan struct{})}
	e.subscribeSub(b, anon, `[{"event":"INSERT","schema":"public","table":"bench"}]`, c)
	e.stop()
	for i := 0; i < 100; i++ {
		e.exec(b, fmt.Sprintf(`insert into public.bench select g, 0, 'row ' || g, g %% 100 from generate_series(%d, %d) g`, i*1000+1, (i+1)*1000))
	}
	e.svc = NewService(e.mgr, AlwaysOwner{}, testLogger(), nil, Hooks{})
	unsub := e.svc.Subscribe(context.Background(), e.tenant, anon, mustBindings(b, `[{"event":"INSERT","schema":"public","table":"bench"}]`), c)
	defer unsub()
	waitRegisteredTB(b, e.svc, e.tenant.ExternalID)
	n0, p0 := cpuClock(e.inst)
	start := time.Now()
	b.ResetTimer()
	e.run(b)
	select {
	case <-c.done:
	case <-time.After(120 * time.Second):
		b.Fatalf("only %d of %d changes after 120 s", c.n.Load(), total)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "changes/s")
	reportCPU(b, e.inst, n0, p0, elapsed)
}

// BenchmarkRLSDeliveries1000Subscribers: RLS enabled, 1,000 subscribers with distinct claims
// (role authenticated, own sub), one policy comparing the row's team with the claims' team. All in
// one team: every subscriber may see every row (1,000 authorised deliveries per change). A backlog
// of 5,000 inserts (200 per transaction) must be delivered; deliveries/s.
func BenchmarkRLSDeliveries1000Subscribers(b *testing.B) { benchRLS(b, 1000, 1, 5000) }

// BenchmarkRLSDeliveries1000Subscribers10Teams: as above, but each subscriber may see only a
// tenth of the rows, so nine of ten authorisations end in "not visible".
func BenchmarkRLSDeliveries1000Subscribers10Teams(b *testing.B) { benchRLS(b, 1000, 10, 10000) }

func benchRLS(b *testing.B, subs, teams, rows int) {
	e := newEnvWith(b, stockServer, benchSQL+`
alter table public.bench enable row level security;
create policy team on public.bench for select to authenticated
  using (n = ((select current_setting('request.jwt.claims', true))::json->>'team')::int4);`)
	c := &counter{target: int64(rows * subs / teams), done: make(chan struct{})}
	binding := `[{"event":"INSERT","schema":"public","table":"bench"}]`
	claims := func(i int) map[string]any {
		return map[string]any{"role": "authenticated", "sub": fmt.Sprintf("user-%d", i), "team": strconv.Itoa(i % teams)}
	}
	e.subscribeSub(b, anon, binding, c) // creates the slot before the backlog is written
	e.stop()
	e.svc = NewService(e.mgr, AlwaysOwner{}, testLogger(), nil, Hooks{})
	for i := 0; i < subs; i++ {
		unsub := e.svc.Subscribe(context.Background(), e.tenant, claims(i), mustBindings(b, binding), c)
		defer unsub()
	}
	waitRegisteredN(b, e.svc, e.tenant.ExternalID, subs)
	for i := 0; i < rows/200; i++ {
		e.exec(b, fmt.Sprintf(`insert into public.bench select g, 0, 'x', g %% %d from generate_series(%d, %d) g`, teams, i*200+1, (i+1)*200))
	}
	n0, p0 := cpuClock(e.inst)
	w0, q0 := runqWait(e.inst)
	start := time.Now()
	b.ResetTimer()
	e.run(b)
	select {
	case <-c.done:
	case <-time.After(300 * time.Second):
		b.Fatalf("only %d of %d deliveries after 300 s", c.n.Load(), c.target)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	// How the work was cut: RLS statements (one per claims group per batch) and batches.
	b.ReportMetric(counterValue(b, e.svc.metrics.rlsQueries), "rls-statements")
	b.ReportMetric(float64(histogramCount(b, e.svc.metrics.rlsSeconds)), "rls-batches")
	b.ReportMetric(float64(c.target)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(rows*subs)/elapsed.Seconds(), "authorisations/s")
	reportCPU(b, e.inst, n0, p0, elapsed)
	reportRunqWait(b, e.inst, w0, q0, elapsed)
}

func (e *env) subscribeSub(tb testing.TB, claims map[string]any, raw string, sub Subscriber) {
	tb.Helper()
	rec := newRecorder()
	unsub := e.svc.Subscribe(context.Background(), e.tenant, claims, mustBindings(tb, raw), rec)
	rec.waitSubscribed(tb) // makes sure the slot exists before the backlog is written
	unsub()
}

func waitRegisteredTB(tb testing.TB, s *Service, id string) { waitRegisteredN(tb, s, id, 1) }

func waitRegisteredN(tb testing.TB, s *Service, id string, n int) {
	tb.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		ts := s.tenants[id]
		s.mu.Unlock()
		if ts != nil && ts.reg.size() >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("%d subscriptions on %s never registered", n, id)
}

func counterValue(tb testing.TB, c prometheus.Counter) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatalf("counter: %v", err)
	}
	return m.GetCounter().GetValue()
}
