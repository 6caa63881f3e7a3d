// Package meshrelay connects the node's local services to the cluster mesh: pub/sub messages go
// to the other nodes through the region-aware bus (docs/protocol.md#routing), presence replicates as CRDT deltas
// with full-state sync for new or returning nodes, replicas of vanished nodes are marked down
// after a configurable delay, and connected-user counts are summed across the cluster.
package meshrelay

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/presence"
)

// Config are the parts to connect and the presence timing knobs.
type Config struct {
	Mesh    *cluster.Mesh
	Tracker *presence.CRDTTracker
	// BroadcastPeriod is how often presence deltas (or heartbeats) go out; default 1.5 s.
	BroadcastPeriod time.Duration
	// DownPeriod is how long a node may be unreachable before its presences leave; default 5 s
	// (upstream waits 30 s).
	DownPeriod time.Duration
	// PermDownPeriod is when a vanished node's presence state is forgotten; default 20 min.
	PermDownPeriod time.Duration
	Log            *slog.Logger
	// Registerer receives the presence replication metrics (may be nil).
	Registerer prometheus.Registerer
}

// Relay replicates presence over the mesh; create it before the mesh runs (it registers handlers).
type Relay struct {
	cfg Config

	stateSync    prometheus.Histogram // time to merge a full state from a peer
	replicasDown prometheus.Counter

	mu      sync.Mutex
	missing map[presence.ReplicaID]time.Time // replicas whose node is not connected, since when
}

// New registers the presence handlers on the mesh.
func New(cfg Config) *Relay {
	if cfg.BroadcastPeriod <= 0 {
		cfg.BroadcastPeriod = presence.DefaultBroadcastPeriod
	}
	if cfg.DownPeriod <= 0 {
		cfg.DownPeriod = 5 * time.Second
	}
	if cfg.PermDownPeriod <= 0 {
		cfg.PermDownPeriod = presence.DefaultPermDownPeriod
	}
	w := &Relay{cfg: cfg, missing: map[presence.ReplicaID]time.Time{},
		stateSync: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "realtime_presence_state_sync_seconds",
			Help: "Time to merge a presence full state received from another node.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}),
		replicasDown: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_presence_replicas_down_total",
			Help: "Remote presence replicas marked down because their node was unreachable for the down period."}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(w.stateSync, w.replicasDown)
	}
	cfg.Mesh.Handle(cluster.TypePresenceDelta, w.onDelta)
	cfg.Mesh.Handle(cluster.TypePresenceState, w.onState)
	cfg.Mesh.Handle(cluster.TypePresenceAsk, w.onAsk)
	return w
}

// Run replicates presence until ctx ends: deltas every period, full state to peers that come up,
// liveness of remote replicas.
func (w *Relay) Run(ctx context.Context) error {
	events := w.cfg.Mesh.PeerEvents()
	tick := time.NewTicker(w.cfg.BroadcastPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if ev.Kind == cluster.PeerUp {
				// Sweep first: a peer that restarted replaces its old replica, which must not be
				// part of the state we send.
				w.sweep(time.Now())
				w.sendState(ev.Peer.Name)
			}
		case now := <-tick.C:
			w.broadcastDelta()
			w.sweep(now)
		}
	}
}

func (w *Relay) broadcastDelta() {
	d, _ := w.cfg.Tracker.ExtractDelta() // an unchanged tracker yields a heartbeat: still sent
	b, err := d.MarshalBinary()
	if err != nil {
		w.cfg.Log.Error("encode presence delta", "err", err)
		return
	}
	for _, p := range w.cfg.Mesh.Peers() {
		w.cfg.Mesh.Send(p.Name, cluster.TypePresenceDelta, b)
	}
}

func (w *Relay) sendState(peer string) {
	b, err := w.cfg.Tracker.FullState().MarshalBinary()
	if err != nil {
		w.cfg.Log.Error("encode presence state", "err", err)
		return
	}
	w.cfg.Mesh.Send(peer, cluster.TypePresenceState, b)
}

func (w *Relay) onDelta(from cluster.Member, payload []byte) {
	d, err := presence.UnmarshalDelta(payload)
	if err != nil {
		w.cfg.Log.Warn("dropping malformed presence delta", "from", from.Name, "err", err)
		return
	}
	if w.cfg.Tracker.MergeDelta(replicaOf(from), d) {
		w.cfg.Mesh.Send(from.Name, cluster.TypePresenceAsk, nil)
	}
}

func (w *Relay) onState(from cluster.Member, payload []byte) {
	d, err := presence.UnmarshalDelta(payload)
	if err != nil {
		w.cfg.Log.Warn("dropping malformed presence state", "from", from.Name, "err", err)
		return
	}
	start := time.Now()
	w.cfg.Tracker.MergeState(replicaOf(from), d)
	w.stateSync.Observe(time.Since(start).Seconds())
}

func (w *Relay) onAsk(from cluster.Member, _ []byte) { w.sendState(from.Name) }

func replicaOf(m cluster.Member) presence.ReplicaID {
	return presence.ReplicaID{Node: m.Name, Epoch: m.Epoch}
}
