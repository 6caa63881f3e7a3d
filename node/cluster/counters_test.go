package cluster

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

// TestCountersAcrossNodes: per-tenant counts are summed across three nodes and a stopped node's
// counts disappear from the others.
func TestCountersAcrossNodes(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "eu", "us"}, Options{})
	var counters []*Counters
	var locals []*localCounts
	for _, m := range c.meshes {
		l := &localCounts{n: map[string]int{}}
		locals = append(locals, l)
		counters = append(counters, NewCounters(m, CountersOptions{Interval: 100 * time.Millisecond, Local: l.snapshot}))
	}
	nodes := c.start(t)
	var stops []context.CancelFunc
	for _, ct := range counters {
		stops = append(stops, runCtx(t, ct.Run))
	}
	locals[0].add("acme", 2)
	locals[1].add("acme", 3)
	locals[2].add("acme", 5)
	locals[2].add("other", 1)
	locals[2].add("other", -1)
	total := func(i int, tenant string) int { return locals[i].get(tenant) + counters[i].Remote(tenant) }
	for i := range counters {
		testutil.Eventually(t, 5*time.Second, "cluster total on "+c.members[i].Name, func() bool {
			return total(i, "acme") == 10 && total(i, "other") == 0
		})
	}
	if got := counters[1].Remote("acme"); got != 7 {
		t.Fatalf("remote count %d", got)
	}
	stops[2]()
	nodes[2].stop()
	for i := range counters[:2] {
		testutil.Eventually(t, 5*time.Second, "stopped node's counts dropped", func() bool { return total(i, "acme") == 5 })
	}
}

// localCounts stands in for channel.Users, the node's own counts.
type localCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *localCounts) add(tenant string, d int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[tenant] += d; l.n[tenant] <= 0 {
		delete(l.n, tenant)
	}
}

func (l *localCounts) get(tenant string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[tenant]
}

func (l *localCounts) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.n)
}
