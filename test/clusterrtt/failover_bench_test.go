//go:build linux

package clusterrtt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkFailoverCrossRegion is test/clusterchanges' WAL-owner failover (SIGKILL the node
// streaming the tenant's WAL) with the new owner in another region and real latency between
// regions. eutenant's database is in eu (db-eu); its owner is the one eu node left running (the
// other eu node is SIGKILLed first), so when that owner is SIGKILLed no node of the database's
// region is left and placement (node/placement rule 3, LowestRTT) moves the tenant to a us node:
// 40 ms round trip to the database, against 80 ms from ap. A writer commits a row every 20 ms
// for the whole run; the subscriber is on ap-a (never the owner: 60 ms one way from us). One
// iteration is one failover: kill the eu owner, time until a surviving node reports it streams
// the tenant (stream-ms) and until the first row whose insert began after the kill reaches the
// subscriber (first-row-ms), then start the eu node again and wait until the tenant is back on
// it (a planned handoff, SameRegion). Every committed row must reach the subscriber. The first
// failover of a world has a cold new owner (it never held the tenant: cold-* metrics); later ones
// hand the tenant to a node that held it before in this world (warm-*, median).
// Run: REALTIME_NODE_BIN=bin/realtime-node go test -count=1 -run '^$' -bench FailoverCrossRegion ./test/clusterrtt/
func BenchmarkFailoverCrossRegion(b *testing.B) {
	w := newWorld(b)
	var owner string
	waitFor(b, 60*time.Second, "eutenant owned in eu", func() bool {
		owner = ownerOf(w.nodes, "eutenant")
		return strings.HasPrefix(owner, "eu-")
	})
	spare := map[string]string{"eu-a": "eu-b", "eu-b": "eu-a"}[owner]
	w.byName[spare].proc.Kill()
	live := w.without(spare)
	db := fmt.Sprintf("%s:5432", w.lab.leaf("db-eu").IP)
	waitFor(b, 30*time.Second, "a mesh without "+spare+", RTT figures settled, eutenant still on "+owner, func() bool {
		for _, n := range live {
			if st, ok := n.status(); !ok || len(st.Peers) != len(live)-1 || st.DatabaseRTT[db].Settled <= 0 {
				return false
			}
		}
		return ownerOf(live, "eutenant") == owner
	})

	sub := subscribe(w.ctx, b, w.byName["ap-a"], "eutenant")
	waitFor(b, 30*time.Second, "Subscribed to PostgreSQL on ap-a", func() bool { return sub.Subscribed() > 0 })
	wr := &timedWriter{}
	ctx, stop := context.WithCancel(w.ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); wr.run(ctx, b, w.pools["eutenant"]) }()
	defer func() { stop(); wg.Wait() }()

	var streamMs, firstMs []float64
	b.ResetTimer()
	for i := range b.N {
		time.Sleep(time.Second) // rows flowing through the eu owner before the kill
		survivors := w.without(spare, owner)
		killedAt := time.Now()
		w.byName[owner].proc.Kill()
		var streamer string
		var streamAt time.Time
		waitFor(b, 60*time.Second, "a surviving node streaming eutenant", func() bool {
			for _, n := range survivors {
				if st, ok := n.status(); ok && st.streams("eutenant") {
					streamer, streamAt = n.name, time.Now()
					return true
				}
			}
			return false
		})
		if !strings.HasPrefix(streamer, "us-") {
			b.Fatalf("after the eu owner's kill eutenant is streamed by %s, want a us node (lowest RTT)", streamer)
		}
		first := wr.firstStartedAfter(b, killedAt)
		var firstAt time.Time
		waitFor(b, 60*time.Second, fmt.Sprintf("row %d (the first begun after the kill) on ap-a", first), func() bool {
			var ok bool
			firstAt, ok = sub.At(first)
			return ok
		})
		streamMs = append(streamMs, ms(streamAt.Sub(killedAt)))
		firstMs = append(firstMs, ms(firstAt.Sub(killedAt)))
		b.Logf("failover %d: %s killed, %s streams after %.0f ms, first row after the kill on ap-a after %.0f ms",
			i+1, owner, streamer, streamMs[i], firstMs[i])

		// The eu node again: the tenant goes back to its region (SameRegion) before the next kill.
		b.StopTimer()
		w.restart(b, owner)
		waitFor(b, 60*time.Second, "eutenant back on "+owner, func() bool {
			return ownerOf(w.without(spare), "eutenant") == owner
		})
		b.StartTimer()
	}
	b.StopTimer()
	time.Sleep(time.Second) // rows after the last handoff
	stop()
	wg.Wait()
	ids := wr.ids()
	var missing []int64
	deadline := time.Now().Add(30 * time.Second)
	for missing = sub.Missing(ids); len(missing) > 0 && time.Now().Before(deadline); missing = sub.Missing(ids) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		b.Fatalf("%d of %d committed rows never reached the subscriber on ap-a (first missing: %d)", len(missing), len(ids), missing[0])
	}
	// The first failover's new owner never held the tenant (no pool, no replication state: cold);
	// later ones take over a tenant they held before in this world (warm).
	b.ReportMetric(streamMs[0], "cold-stream-ms")
	b.ReportMetric(firstMs[0], "cold-first-row-ms")
	if len(streamMs) > 1 {
		b.ReportMetric(median(streamMs[1:]), "warm-stream-ms")
		b.ReportMetric(median(firstMs[1:]), "warm-first-row-ms")
	}
	b.Logf("%d failovers, %d rows committed, all delivered on ap-a", b.N, len(ids))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// without is the world's nodes except the named ones.
func (w *world) without(names ...string) []*node {
	var out []*node
	for _, n := range w.nodes {
		if !slices.Contains(names, n.name) {
			out = append(out, n)
		}
	}
	return out
}

// restart starts node name again (its process must have exited) with the world's flags.
func (w *world) restart(t testing.TB, name string) {
	n := startNode(t, w.lab, w.bin, name, w.peers, w.tenants, w.args...)
	for i := range w.nodes {
		if w.nodes[i].name == name {
			w.nodes[i] = n
		}
	}
	w.byName[name] = n
}

// timedWriter commits one row every 20 ms (each insert its own transaction) and remembers when
// each insert began.
type timedWriter struct {
	mu      sync.Mutex
	started []time.Time // by id-1
	done    []int64
}

func (wr *timedWriter) run(ctx context.Context, t testing.TB, pool *pgxpool.Pool) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for id := int64(1); ; id++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		wr.mu.Lock()
		wr.started = append(wr.started, time.Now())
		wr.mu.Unlock()
		if _, err := pool.Exec(ctx, "insert into public.seq (id) values ($1)", id); err != nil {
			if ctx.Err() == nil {
				t.Errorf("insert %d: %v", id, err)
			}
			return
		}
		wr.mu.Lock()
		wr.done = append(wr.done, id)
		wr.mu.Unlock()
	}
}

// firstStartedAfter waits for the first committed row whose insert began after at.
func (wr *timedWriter) firstStartedAfter(t testing.TB, at time.Time) int64 {
	var id int64
	waitFor(t, 10*time.Second, "a row committed after the kill", func() bool {
		wr.mu.Lock()
		defer wr.mu.Unlock()
		for _, d := range wr.done {
			if wr.started[d-1].After(at) {
				id = d
				return true
			}
		}
		return false
	})
	return id
}

func (wr *timedWriter) ids() []int64 {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return slices.Clone(wr.done)
}
