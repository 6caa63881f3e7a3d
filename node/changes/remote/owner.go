package remote

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/placement"
	"github.com/realtimeops/realtime/node/tenant"
)

// MembershipView is the part of cluster.Mesh the owner reads.
type MembershipView interface {
	Self() cluster.Member
	Peers() []cluster.Member
	PeerEvents() <-chan cluster.PeerEvent
}

// MeshOwner is the changes.Owner of a cluster without the operator: every node computes
// placement.Choose over the live members (itself plus the peers it has a link to) and the
// tenant's database region, so all nodes with the same view agree on one owner per tenant.
type MeshOwner struct {
	mesh    MembershipView
	tenants func(string) (*tenant.Tenant, bool)
	mapping map[string]string
	warmup  time.Duration
	maxWarm time.Duration
	members func() []cluster.Member
	log     *slog.Logger

	ready   atomic.Bool // warm-up over
	changed chan struct{}

	rtt          func(node, endpoint string) float64
	policy       placement.Policy
	recheckEvery time.Duration

	mu    sync.Mutex
	owned map[string]bool   // last answers, to log ownership changes
	last  map[string]string // last owner computed per tenant
}

// OwnerConfig configures a MeshOwner.
type OwnerConfig struct {
	Mesh    MembershipView
	Tenants func(externalID string) (*tenant.Tenant, bool)
	// Mapping maps database regions to node regions (REGION_MAPPING, docs/protocol.md#placement).
	Mapping map[string]string
	// Warmup: the node owns nothing until this long after Run started and, when Members is set,
	// until it has a link to every member discovery lists (or MaxWarmup passed). A starting node
	// that thought itself alone would claim tenants and stream before the nodes it cannot see yet
	// re-registered their subscriptions with it. Default 2 s; negative: none.
	Warmup time.Duration
	// MaxWarmup ends the warm-up even when some listed member never links (default 15 s).
	MaxWarmup time.Duration
	// Members lists the members discovery knows (cluster.Discovery.Members); may be nil.
	Members func() []cluster.Member
	// RTT returns a node's settled round-trip time to a database endpoint in ms (0: unknown),
	// rtt.Share.RTT; nil places by the region rules alone.
	RTT func(node, endpoint string) float64
	// Policy holds the RTT margin (nil: placement.DefaultPolicy).
	Policy *placement.Policy
	// Recheck is how often answers are re-evaluated for RTT changes (default 2 s).
	Recheck time.Duration
	Log     *slog.Logger
}

// NewMeshOwner creates the owner; run it with Run.
func NewMeshOwner(cfg OwnerConfig) *MeshOwner {
	if cfg.Warmup == 0 {
		cfg.Warmup = 2 * time.Second
	}
	if cfg.MaxWarmup <= 0 {
		cfg.MaxWarmup = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	policy := placement.DefaultPolicy
	if cfg.Policy != nil {
		policy = *cfg.Policy
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = 2 * time.Second
	}
	o := &MeshOwner{mesh: cfg.Mesh, tenants: cfg.Tenants, mapping: cfg.Mapping, warmup: cfg.Warmup,
		maxWarm: cfg.MaxWarmup, members: cfg.Members, rtt: cfg.RTT, policy: policy, recheckEvery: cfg.Recheck,
		log: cfg.Log.With("component", "changes.owner"), changed: make(chan struct{}, 1), owned: map[string]bool{},
		last: map[string]string{}}
	if cfg.Warmup < 0 {
		o.ready.Store(true)
	}
	return o
}

// Owns reports whether this node is the chosen owner of the tenant's WAL work right now.
func (o *MeshOwner) Owns(externalID string) bool {
	if !o.ready.Load() {
		return false
	}
	t, ok := o.tenants(externalID)
	if !ok || t.Database == nil {
		return false
	}
	self := o.mesh.Self()
	d, nodes := o.choose(t)
	owner := d.Node
	mine := owner == self.Name
	o.mu.Lock()
	prevOwner, known := o.last[externalID]
	o.last[externalID] = owner
	if prev, seen := o.owned[externalID]; !seen || prev != mine || (known && prevOwner != owner) {
		o.owned[externalID] = mine
		args := []any{"tenant", externalID, "owner", owner, "self", mine, "owner_rtt_ms", d.RTTms}
		if known && prevOwner != owner {
			args = append(append(args, "from", prevOwner), why(prevOwner, d, nodes)...)
		}
		o.log.Info("tenant WAL ownership", args...)
	}
	o.mu.Unlock()
	return mine
}

// Changes fires when the live members changed (and when the warm-up ends).
func (o *MeshOwner) Changes() <-chan struct{} { return o.changed }

// Run follows peer ups and downs until ctx ends.
func (o *MeshOwner) Run(ctx context.Context) error {
	events := o.mesh.PeerEvents()
	start := time.Now()
	var poll <-chan time.Time
	if !o.ready.Load() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		poll = t.C
	}
	recheck := time.NewTicker(o.recheckEvery)
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-recheck.C:
			if !o.ready.Load() || !o.recheck() {
				continue
			}
		case <-poll:
			if !o.warm(time.Since(start)) {
				continue
			}
			o.ready.Store(true)
			poll = nil
			o.log.Info("WAL ownership warm-up over", "after", time.Since(start).Round(time.Millisecond))
		case _, ok := <-events:
			if !ok {
				return nil
			}
		}
		select {
		case o.changed <- struct{}{}:
		default:
		}
	}
}

// warm reports whether the warm-up is over after elapsed.
func (o *MeshOwner) warm(elapsed time.Duration) bool {
	if elapsed < o.warmup {
		return false
	}
	if o.members == nil || elapsed >= o.maxWarm {
		return true
	}
	return allLinked(o.mesh.Self(), o.members(), o.mesh.Peers())
}

// allLinked: every listed member other than self has a live link.
func allLinked(self cluster.Member, listed, live []cluster.Member) bool {
	up := map[string]bool{}
	for _, p := range live {
		up[p.Name] = true
		up[p.Addr] = true
	}
	for _, m := range listed {
		if m.Name == self.Name || m.Addr == self.Addr {
			continue
		}
		if !up[m.Name] && !up[m.Addr] {
			return false
		}
	}
	return true
}

// ChooseOwner is the pure ownership rule: placement.Choose over self and the live peers, every
// one of them ready. It returns the owner's node name ("" only when there is no member at all).
func ChooseOwner(tenantID, dbRegion string, mapping map[string]string, self cluster.Member, peers []cluster.Member) string {
	nodes := make([]placement.Node, 0, len(peers)+1)
	nodes = append(nodes, placement.Node{Name: self.Name, Region: self.Region, Ready: true})
	for _, p := range peers {
		if p.Name != self.Name {
			nodes = append(nodes, placement.Node{Name: p.Name, Region: p.Region, Ready: true})
		}
	}
	d, ok := placement.Choose(tenantID, dbRegion, mapping, nodes)
	if !ok {
		return ""
	}
	return d.Node
}
