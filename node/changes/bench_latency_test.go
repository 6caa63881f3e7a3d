package changes

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// latencySub records, per delivery, the row's id and when it arrived.
type latencySub struct {
	mu  *sync.Mutex
	got *[]arrival
}

type arrival struct {
	id int
	at time.Time
}

func (l latencySub) PostgresChange(ids []int64, data json.RawMessage) {
	now := time.Now()
	s := string(data)
	i := strings.Index(s, `"id":`) + 5
	j := i + strings.IndexAny(s[i:], ",}")
	id, _ := strconv.Atoi(s[i:j])
	l.mu.Lock()
	*l.got = append(*l.got, arrival{id, now})
	l.mu.Unlock()
}
func (latencySub) System(string, string) {}

// BenchmarkLatency1kPerSecond100Subscribers: 1,000 single-row commits/s for 5 s (autocommit
// INSERTs, stock server: fsync and synchronous_commit=on), 100 subscribers. The commits are
// scheduled open-loop (commit i is due at i ms) over four writer connections: one connection
// cannot hold 1,000/s when a commit's WAL flush takes a millisecond or more, as it does here.
// Over all 500,000 deliveries:
//   - p50/p99/p99.9/max-ms: from just before the INSERT is sent to the delivery (what a writer
//     sees; includes the commit's WAL flush, which the walsender waits for before sending);
//   - commit-p50/p99-ms: the INSERT's round trip alone (parse, insert, WAL flush, reply);
//   - after-commit-p50/p99-ms: from the INSERT's reply to the delivery (stream, decode, fan-out).
func BenchmarkLatency1kPerSecond100Subscribers(b *testing.B) {
	e := newEnvWith(b, stockServer, benchSQL)
	var mu sync.Mutex
	var got []arrival
	binding := `[{"event":"INSERT","schema":"public","table":"bench"}]`
	for i := 0; i < 100; i++ {
		rec := newRecorder()
		unsub := e.svc.Subscribe(context.Background(), e.tenant, anon, mustBindings(b, binding), rec)
		rec.waitSubscribed(b)
		unsub()
		unsub = e.svc.Subscribe(context.Background(), e.tenant, anon, mustBindings(b, binding), latencySub{&mu, &got})
		defer unsub()
	}
	waitRegisteredN(b, e.svc, e.tenant.ExternalID, 100)
	const rate, seconds, subs, writers = 1000, 5, 100, 4
	sent := make([]time.Time, rate*seconds+1)
	committed := make([]time.Time, rate*seconds+1)
	n0, p0 := cpuClock(e.inst)
	w0, q0 := runqWait(e.inst)
	start := time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := e.pool.Acquire(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer conn.Release()
			for i := 1 + w; i <= rate*seconds; i += writers {
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
				sent[i] = time.Now()
				if _, err := conn.Exec(context.Background(), "insert into public.bench (id, sent) values ($1, $2)", i, sent[i].UnixNano()); err != nil {
					errs <- err
					return
				}
				committed[i] = time.Now()
			}
		}()
	}
	wg.Wait()
	writing := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= rate*seconds*subs || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportCPU(b, e.inst, n0, p0, elapsed)
	reportRunqWait(b, e.inst, w0, q0, elapsed)
	b.ReportMetric(float64(rate*seconds)/writing.Seconds(), "commits/s")
	mu.Lock()
	defer mu.Unlock()
	if len(got) < rate*seconds*subs {
		b.Fatalf("only %d of %d deliveries", len(got), rate*seconds*subs)
	}
	total := make([]time.Duration, 0, len(got))
	after := make([]time.Duration, 0, len(got))
	for _, a := range got {
		if a.id < 1 || a.id > rate*seconds {
			b.Fatalf("delivery of an unknown row id %d", a.id)
		}
		total = append(total, a.at.Sub(sent[a.id]))
		after = append(after, a.at.Sub(committed[a.id]))
	}
	commits := make([]time.Duration, 0, rate*seconds)
	for i := 1; i <= rate*seconds; i++ {
		commits = append(commits, committed[i].Sub(sent[i]))
	}
	report := func(name string, d []time.Duration, qs ...float64) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		for _, q := range qs {
			k := min(int(float64(len(d))*q), len(d)-1)
			label := "p" + strconv.FormatFloat(q*100, 'f', -1, 64)
			if q == 1 {
				label = "max"
			}
			b.ReportMetric(float64(d[k].Microseconds())/1000, name+label+"-ms")
		}
	}
	if path := os.Getenv("CHANGES_BENCH_LATENCY_DUMP"); path != "" {
		dumpLatency(b, path, start, sent, committed, got)
	}
	report("", total, 0.5, 0.99, 0.999, 1)
	report("commit-", commits, 0.5, 0.99)
	report("after-commit-", after, 0.5, 0.99)
}

// dumpLatency writes one line per commit (ms since start: sent, committed, first and last
// delivery) for finding out whether a tail is a few slow commits or a stall of everything.
func dumpLatency(b *testing.B, path string, start time.Time, sent, committed []time.Time, got []arrival) {
	first := make([]time.Time, len(sent))
	last := make([]time.Time, len(sent))
	for _, a := range got {
		if first[a.id].IsZero() || a.at.Before(first[a.id]) {
			first[a.id] = a.at
		}
		if a.at.After(last[a.id]) {
			last[a.id] = a.at
		}
	}
	ms := func(t time.Time) float64 { return float64(t.Sub(start).Microseconds()) / 1000 }
	var sb strings.Builder
	sb.WriteString("id sent committed first last\n")
	for i := 1; i < len(sent); i++ {
		fmt.Fprintf(&sb, "%d %.3f %.3f %.3f %.3f\n", i, ms(sent[i]), ms(committed[i]), ms(first[i]), ms(last[i]))
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}
