package changes

import (
	"context"
	"encoding/json"
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
// INSERTs on one connection, stock server: fsync and synchronous_commit=on), 100 subscribers.
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
	conn, err := e.pool.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	const rate, seconds, subs = 1000, 5, 100
	sent := make([]time.Time, rate*seconds+1)
	committed := make([]time.Time, rate*seconds+1)
	n0, p0 := cpuClock(e.inst)
	start := time.Now()
	b.ResetTimer()
	for i := 1; i <= rate*seconds; i++ {
		due := start.Add(time.Duration(i) * time.Second / rate)
		time.Sleep(time.Until(due))
		sent[i] = time.Now()
		if _, err := conn.Exec(context.Background(), "insert into public.bench (id, sent) values ($1, $2)", i, sent[i].UnixNano()); err != nil {
			b.Fatal(err)
		}
		committed[i] = time.Now()
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
	report("", total, 0.5, 0.99, 0.999, 1)
	report("commit-", commits, 0.5, 0.99)
	report("after-commit-", after, 0.5, 0.99)
}
