package cluster

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CountersOptions tunes Counters.
type CountersOptions struct {
	// Interval between gossip rounds (default 3 s; upstream's Census uses 10 s).
	Interval time.Duration
	// TTL after which a peer's report is ignored if not refreshed (default 3 x Interval).
	TTL time.Duration
}

// Counters keeps per-tenant connected-user counts cluster-wide (spec 8.3 "Census"): each node
// counts its own sockets that joined a channel, sends its full table to every peer every
// Interval and at once to a peer that comes up, and sums what peers reported. A peer's counts
// disappear when its link goes down.
type Counters struct {
	m    *Mesh
	opts CountersOptions

	mu    sync.Mutex
	local map[string]int
	table *counterTable
}

// NewCounters registers the Counters handler (TypeCounters) on m; call before m.Run, then run
// Counters.Run alongside it.
func NewCounters(m *Mesh, opts CountersOptions) *Counters {
	if opts.Interval <= 0 {
		opts.Interval = 3 * time.Second
	}
	if opts.TTL <= 0 {
		opts.TTL = 3 * opts.Interval
	}
	c := &Counters{m: m, opts: opts, local: make(map[string]int), table: newCounterTable()}
	m.Handle(TypeCounters, c.receive)
	return c
}

// Add changes this node's count for tenant by delta (+1 on a socket's first join, -1 when it
// closes).
func (c *Counters) Add(tenant string, delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.local[tenant] + delta; n > 0 {
		c.local[tenant] = n
	} else {
		delete(c.local, tenant)
	}
}

// Local returns this node's own count for tenant.
func (c *Counters) Local(tenant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local[tenant]
}

// Total returns the cluster-wide count for tenant: ours, now, plus each live peer's last report.
func (c *Counters) Total(tenant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local[tenant] + c.table.total(tenant)
}

// Run gossips until ctx ends.
func (c *Counters) Run(ctx context.Context) error {
	events := c.m.PeerEvents()
	tick := time.NewTicker(c.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil // mesh stopped; keep serving Total until ctx ends
				continue
			}
			c.onPeer(ev)
		case <-tick.C:
			c.mu.Lock()
			c.table.expire(time.Now(), c.opts.TTL)
			c.mu.Unlock()
			payload := c.snapshot()
			for _, p := range c.m.Peers() {
				c.m.Send(p.Name, TypeCounters, payload)
			}
		}
	}
}

func (c *Counters) onPeer(ev PeerEvent) {
	switch ev.Kind {
	case PeerUp:
		c.m.Send(ev.Peer.Name, TypeCounters, c.snapshot())
	case PeerDown:
		c.mu.Lock()
		c.table.drop(ev.Peer)
		c.mu.Unlock()
	}
}

func (c *Counters) snapshot() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return encodeCounts(c.local)
}

func (c *Counters) receive(from Member, payload []byte) {
	counts, err := decodeCounts(payload)
	if err != nil {
		c.m.log.Warn("dropping malformed counters gossip", "from", from.Name, "err", err)
		return
	}
	c.mu.Lock()
	c.table.apply(from, counts, time.Now())
	c.mu.Unlock()
}

// Collector exposes realtime_connections_connected_cluster{tenant} (spec 9.2), read at scrape
// time. Register it once, where the node registers its other per-tenant metrics.
func (c *Counters) Collector() prometheus.Collector { return countersCollector{c} }

var descConnectedCluster = prometheus.NewDesc("realtime_connections_connected_cluster",
	"Sockets with at least one joined channel, cluster-wide.", []string{"tenant"}, nil)

type countersCollector struct{ c *Counters }

func (cc countersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descConnectedCluster }

func (cc countersCollector) Collect(ch chan<- prometheus.Metric) {
	cc.c.mu.Lock()
	tenants := maps.Clone(cc.c.local)
	for _, pc := range cc.c.table.peers {
		for t := range pc.counts {
			tenants[t] = 0
		}
	}
	for t := range tenants {
		tenants[t] = cc.c.local[t] + cc.c.table.total(t)
	}
	cc.c.mu.Unlock()
	for t, n := range tenants {
		ch <- prometheus.MustNewConstMetric(descConnectedCluster, prometheus.GaugeValue, float64(n), t)
	}
}
