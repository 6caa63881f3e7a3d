package limiter

import (
	"context"
	"sync"
	"time"
)

// Kind names one per-tenant counter.
type Kind uint8

// The tenant counters, one per limit of docs/protocol.md#limits.
const (
	Events Kind = iota
	Joins
	PresenceEvents
	DBEvents
	Requests
	kinds
)

// Limits returns the per-second limit of each kind for a tenant.
type Limits func(tenant string) (events, joins, presence int)

// Tenants holds the rate counters of every tenant on this node and ticks them.
type Tenants struct {
	limits Limits
	mu     sync.RWMutex
	byKey  map[string]*[kinds]Counter
}

// NewTenants creates the registry; limits is consulted at every tick so limit changes apply.
func NewTenants(limits Limits) *Tenants {
	return &Tenants{limits: limits, byKey: map[string]*[kinds]Counter{}}
}

// Counter returns the counter of kind k for tenant, creating it on first use.
func (t *Tenants) Counter(tenant string, k Kind) *Counter {
	t.mu.RLock()
	cs := t.byKey[tenant]
	t.mu.RUnlock()
	if cs == nil {
		t.mu.Lock()
		if cs = t.byKey[tenant]; cs == nil {
			cs = new([kinds]Counter)
			t.byKey[tenant] = cs
		}
		t.mu.Unlock()
	}
	return &cs[k]
}

// Tick closes one bucket of every counter. Counters are never dropped: channels keep pointers to
// them for the hot path, and their number is bounded by the number of tenants.
func (t *Tenants) Tick() {
	t.mu.RLock()
	keys := make([]string, 0, len(t.byKey))
	for k := range t.byKey {
		keys = append(keys, k)
	}
	t.mu.RUnlock()
	for _, tenant := range keys {
		events, joins, presence := t.limits(tenant)
		t.mu.RLock()
		cs := t.byKey[tenant]
		t.mu.RUnlock()
		if cs == nil {
			continue
		}
		for k := range cs {
			limit := events
			switch Kind(k) {
			case Joins:
				limit = joins
			case PresenceEvents:
				limit = presence
			}
			cs[k].Tick(limit)
		}
	}
}

// Run ticks every interval (TickSeconds in production) until ctx ends.
func (t *Tenants) Run(ctx context.Context, interval time.Duration) {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			t.Tick()
		}
	}
}
