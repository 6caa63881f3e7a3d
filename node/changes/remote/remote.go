// Package remote makes Postgres Changes work in a cluster: a channel may be joined on any node
// while exactly one node (the tenant's WAL owner) streams the tenant's slot.
//
// Protocol, over the authenticated mesh (node/cluster):
//
//   - The owner claims a tenant when its stream is about to start (changes.StreamGate): it sends
//     Claim(tenant) to every peer, and again to every peer that comes up later. A node holding
//     channels registers their subscriptions with every node currently claiming the tenant
//     (Register: tenant, token, JWT claims, bindings) and answers Done. The owner reads the slot
//     only after every live peer answered Done and every registration was validated, so the first
//     change it reads — the first one the previous owner had not confirmed — already has all its
//     subscribers: an owner change loses nothing, and channels keep their subscriptions (upstream
//     loses them).
//   - The owner runs each registration through its local changes.Service with a proxy Subscriber
//     that sends every change and system message point to point to the node hosting the channel.
//   - Before the stream confirms a batch (changes.Barrier) the owner sends a barrier to every node
//     it forwarded changes of the batch to and waits for their acks: links are ordered, so an ack
//     means every change was handed to the channels. A change that could not be queued (peer queue
//     full) fails the batch, and the stream re-reads it from the slot.
//   - Release(tenant) when the stream stops; a peer that goes down loses its claims and
//     registrations on both sides; Resync repairs a link that went down and up faster than its
//     events were processed.
//
// The node's own channels go through the same path with this node as a claimant: registrations
// at self are plain changes.Service subscriptions.
package remote

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/tenant"
)

// Mesh is the part of cluster.Mesh the layer uses.
type Mesh interface {
	MembershipView
	Send(peer string, typ byte, payload []byte) bool
	Handle(typ byte, fn cluster.Handler)
}

// Config configures a Layer.
type Config struct {
	Mesh Mesh
	// Tenants resolves a tenant by external id (registrations from other nodes name it).
	Tenants func(externalID string) (*tenant.Tenant, bool)
	// ClaimTimeout bounds how long a starting stream waits for the peers' registrations
	// (default 3 s): a peer that does not answer by then gets its changes from then on only.
	ClaimTimeout time.Duration
	// BarrierTimeout bounds the wait for a live peer's ack of a batch (default 10 s); past it the
	// batch fails and is read again.
	BarrierTimeout time.Duration
	Log            *slog.Logger
}

// Layer routes a node's Postgres Changes subscriptions to the tenants' owners and serves the
// subscriptions of other nodes for the tenants this node streams.
type Layer struct {
	cfg  Config
	mesh Mesh
	svc  *changes.Service
	self cluster.Member
	log  *slog.Logger
	ctx  context.Context // lives as long as the layer: registrations from peers use it
	stop context.CancelFunc

	// wakeMu guards wake only, so that settle (called from inside changes.Service, under its
	// locks) never needs mu: code holding mu calls into the Service (Subscribe, unsubscribe).
	wakeMu sync.Mutex
	wake   chan struct{} // closed and replaced when claims, registrations or acks change

	mu        sync.Mutex
	nextToken uint64
	nextNonce uint64
	nextSeq   uint64
	subs      map[uint64]*clientSub
	byTenant  map[string]map[uint64]*clientSub
	claimants map[string]map[string]bool // tenant → nodes streaming it (self included)
	hosted    map[hostKey]*hosted
	claims    map[string]*claimState // tenants this node streams
	acks      map[uint64]*ackWait
	dirty     map[string]map[string]bool // tenant → peer → a send failed
}

// NewService builds the node's changes.Service with the layer's hooks (changes.Hooks Gate and
// Barrier) and whatever else the node gives it.
type NewService func(gate changes.StreamGate, barrier changes.Barrier) *changes.Service

// New builds the layer and, through newService, the changes.Service it routes: the layer gates the
// Service's streams and subscribes through it, a true cycle, closed here before either is used
// so that neither is patched after construction. It registers the mesh handlers; call it before
// the mesh and the Service run.
func New(cfg Config, newService NewService) *Layer {
	if cfg.ClaimTimeout <= 0 {
		cfg.ClaimTimeout = 3 * time.Second
	}
	if cfg.BarrierTimeout <= 0 {
		cfg.BarrierTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	l := &Layer{
		cfg: cfg, mesh: cfg.Mesh, self: cfg.Mesh.Self(), ctx: ctx, stop: stop,
		log:  cfg.Log.With("component", "changes.remote"),
		wake: make(chan struct{}), subs: map[uint64]*clientSub{}, byTenant: map[string]map[uint64]*clientSub{},
		claimants: map[string]map[string]bool{}, hosted: map[hostKey]*hosted{}, claims: map[string]*claimState{},
		acks: map[uint64]*ackWait{}, dirty: map[string]map[string]bool{},
	}
	l.svc = newService(l.gate, l.barrier)
	cfg.Mesh.Handle(cluster.TypeChange, l.onChange)
	cfg.Mesh.Handle(cluster.TypeChangeSystem, l.onSystem)
	cfg.Mesh.Handle(cluster.TypeChangeRegister, l.onRegister)
	cfg.Mesh.Handle(cluster.TypeChangeUnreg, l.onUnreg)
	cfg.Mesh.Handle(cluster.TypeChangeControl, l.onControl)
	return l
}

// Service is the changes.Service New built.
func (l *Layer) Service() *changes.Service { return l.svc }

// Run follows peer ups and downs until ctx ends, then drops the registrations of other nodes.
func (l *Layer) Run(ctx context.Context) error {
	events := l.mesh.PeerEvents()
	defer l.shutdown()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if ev.Kind == cluster.PeerUp {
				l.peerUp(ev.Peer)
			} else {
				l.peerDown(ev.Peer)
			}
		}
	}
}

func (l *Layer) shutdown() {
	l.stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, h := range l.hosted {
		if k.node != l.self.Name {
			h.unsub()
			delete(l.hosted, k)
		}
	}
}

// notify wakes everything waiting for a state change.
func (l *Layer) notify() {
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	close(l.wake)
	l.wake = make(chan struct{})
}

// wakeCh returns the channel the next notify closes.
func (l *Layer) wakeCh() <-chan struct{} {
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	return l.wake
}

func (l *Layer) send(peer string, typ byte, payload []byte) bool {
	return l.mesh.Send(peer, typ, payload)
}

func (l *Layer) sendControl(peer string, op byte, tenantID string, n uint64) bool {
	return l.send(peer, cluster.TypeChangeControl, control{Op: op, Tenant: tenantID, N: n}.encode())
}

// peerUp tells a (re)connected peer which tenants this node streams.
func (l *Layer) peerUp(p cluster.Member) {
	l.log.Debug("peer up", "peer", p.Name, "epoch", p.Epoch)
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, cs := range l.claims {
		l.sendControl(p.Name, opClaim, id, cs.nonce)
	}
}

// peerDown forgets what the peer claimed and what it registered here, and releases waits on it.
// When a node of that name is already linked again (the event was processed late: the same
// instance after a flap, or a restarted pod with the same name and a new epoch), it is asked to
// resync: claims and registrations are kept by name, so the ones it sent over the new link were
// just dropped with the old instance's. Without this, a peer that restarted as the tenant's new
// owner (a StatefulSet rolling update) lost this node's subscriptions for good.
func (l *Layer) peerDown(p cluster.Member) {
	l.log.Debug("peer down", "peer", p.Name, "epoch", p.Epoch)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetPeerClaimsLocked(p.Name)
	for k, h := range l.hosted {
		if k.node == p.Name && k.epoch == p.Epoch {
			h.unsub()
			delete(l.hosted, k)
		}
	}
	for _, cs := range l.claims {
		delete(cs.waiting, p.Name)
	}
	for _, a := range l.acks {
		if a.peer == p.Name {
			a.release()
		}
	}
	l.notify()
	for _, q := range l.mesh.Peers() {
		if q.Name == p.Name {
			l.log.Info("asking a relinked peer to resync", "peer", p.Name, "epoch", q.Epoch)
			l.sendControl(p.Name, opResync, "", 0)
		}
	}
}

// forgetPeerClaimsLocked drops the peer as a claimant and as a registration target.
func (l *Layer) forgetPeerClaimsLocked(peer string) {
	for id, set := range l.claimants {
		delete(set, peer)
		if len(set) == 0 {
			delete(l.claimants, id)
		}
	}
	for _, s := range l.subs {
		delete(s.at, peer)
	}
}
