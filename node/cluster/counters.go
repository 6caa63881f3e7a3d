package cluster

import (
	"context"
	"sync"
	"time"
)

// CountersOptions tunes Counters.
type CountersOptions struct {
	// Interval between gossip rounds (default 3 s; upstream's Census uses 10 s).
	Interval time.Duration
	// TTL after which a peer's report is ignored if not refreshed (default 3 x Interval).
	TTL time.Duration
	// Local returns this node's counts (channel.Users.Snapshot): the node counts its sockets in
	// one place, and Counters only gossips them. nil: none.
	Local func() map[string]int
}

// Counters keeps per-tenant connected-user counts cluster-wide (docs/protocol.md#routing "Census"): each node
// sends its own counts (CountersOptions.Local) to every peer every Interval and at once to a peer
// that comes up, and keeps what peers reported. A peer's counts disappear when its link goes down.
type Counters struct {
	m    *Mesh
	opts CountersOptions

	mu    sync.Mutex
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
	if opts.Local == nil {
		opts.Local = func() map[string]int { return nil }
	}
	c := &Counters{m: m, opts: opts, table: newCounterTable()}
	m.Handle(TypeCounters, c.receive)
	return c
}

// Remote returns the other nodes' count for tenant: each live peer's last report.
func (c *Counters) Remote(tenant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.table.total(tenant)
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
				events = nil // mesh stopped; keep serving Remote until ctx ends
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

func (c *Counters) snapshot() []byte { return encodeCounts(c.opts.Local()) }

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
