package rtt

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/realtimeops/realtime/node/cluster"
)

// Mesh is the part of cluster.Mesh a Share uses.
type Mesh interface {
	Self() cluster.Member
	Peers() []cluster.Member
	Handle(typ byte, fn cluster.Handler)
	Send(peer string, typ byte, payload []byte) bool
}

// Share spreads every node's figures to its peers over the mesh, for clusters without the
// operator (each node then places tenants over the same figures). A node sends its whole table
// (endpoint -> ms) to every peer after each probe round: N·(N-1) small messages per interval.
type Share struct {
	mesh   Mesh
	maxAge time.Duration

	mu    sync.Mutex
	own   map[string]float64
	peers map[string]peerTable // by peer name
}

type peerTable struct {
	ms map[string]float64
	at time.Time
}

// NewShare registers the handler on mesh (call before mesh.Run). A peer's table older than
// maxAge (e.g. 4 probe intervals) is ignored, so a peer that stopped measuring does not keep
// winning with old figures.
func NewShare(mesh Mesh, maxAge time.Duration) *Share {
	s := &Share{mesh: mesh, maxAge: maxAge, peers: map[string]peerTable{}}
	mesh.Handle(cluster.TypeRTT, s.receive)
	return s
}

// Publish records this node's figures and sends them to every live peer (Prober.OnRound).
func (s *Share) Publish(figs map[string]Figure) {
	own := make(map[string]float64, len(figs))
	for ep, f := range figs {
		own[ep] = f.Settled
	}
	s.mu.Lock()
	s.own = own
	s.mu.Unlock()
	b, err := json.Marshal(own)
	if err != nil {
		return
	}
	for _, p := range s.mesh.Peers() {
		s.mesh.Send(p.Name, cluster.TypeRTT, b)
	}
}

func (s *Share) receive(from cluster.Member, payload []byte) {
	var ms map[string]float64
	if json.Unmarshal(payload, &ms) != nil {
		return
	}
	s.mu.Lock()
	s.peers[from.Name] = peerTable{ms: ms, at: time.Now()}
	s.mu.Unlock()
}

// RTT is node's figure for endpoint in ms (0: unknown); node is this node or a peer.
func (s *Share) RTT(node, endpoint string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if node == s.mesh.Self().Name {
		return s.own[endpoint]
	}
	t, ok := s.peers[node]
	if !ok || (s.maxAge > 0 && time.Since(t.at) > s.maxAge) {
		return 0
	}
	return t.ms[endpoint]
}
