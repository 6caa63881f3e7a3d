package cluster

import (
	"context"
	"testing"
	"time"
)

// TestCountersAcrossNodes: per-tenant counts are summed across three nodes and a stopped node's
// counts disappear from the others.
func TestCountersAcrossNodes(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "eu", "us"}, Options{})
	var counters []*Counters
	for _, m := range c.meshes {
		counters = append(counters, NewCounters(m, CountersOptions{Interval: 100 * time.Millisecond}))
	}
	nodes := c.start(t)
	var stops []context.CancelFunc
	for _, ct := range counters {
		stops = append(stops, runCtx(t, ct.Run))
	}
	counters[0].Add("acme", 2)
	counters[1].Add("acme", 3)
	counters[2].Add("acme", 5)
	counters[2].Add("other", 1)
	counters[2].Add("other", -1)
	for i, ct := range counters {
		checkFor(t, 5*time.Second, "cluster total on "+c.members[i].Name, func() bool {
			return ct.Total("acme") == 10 && ct.Total("other") == 0
		})
	}
	if counters[1].Local("acme") != 3 {
		t.Fatalf("local count %d", counters[1].Local("acme"))
	}
	stops[2]()
	nodes[2].stop()
	for _, ct := range counters[:2] {
		checkFor(t, 5*time.Second, "stopped node's counts dropped", func() bool { return ct.Total("acme") == 5 })
	}
}
