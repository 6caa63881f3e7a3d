package remote

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/tenant"
)

// fakeMesh records what the layer sends; its membership is set by the test.
type fakeMesh struct {
	self  cluster.Member
	mu    sync.Mutex
	peers []cluster.Member
	sent  []sentMsg
}

type sentMsg struct {
	peer    string
	typ     byte
	payload []byte
}

func (m *fakeMesh) Self() cluster.Member { return m.self }
func (m *fakeMesh) Peers() []cluster.Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]cluster.Member(nil), m.peers...)
}
func (m *fakeMesh) PeerEvents() <-chan cluster.PeerEvent { return make(chan cluster.PeerEvent) }
func (m *fakeMesh) Handle(byte, cluster.Handler)         {}
func (m *fakeMesh) Send(peer string, typ byte, payload []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, sentMsg{peer, typ, payload})
	return true
}

func (m *fakeMesh) controls(peer string, op byte) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sent {
		if s.peer == peer && s.typ == cluster.TypeChangeControl && len(s.payload) > 0 && s.payload[0] == op {
			n++
		}
	}
	return n
}

type nopSub struct{}

func (nopSub) PostgresChange([]int64, json.RawMessage) {}
func (nopSub) System(string, string)                   {}

// TestLateDownOfRestartedPeerAsksForResync: a pod restarted with the same name (new epoch) is up
// and claims the tenant before the old instance's down event is processed. That event drops
// claims and registrations by name, including the new instance's; the layer must ask the new
// instance to resync, or this node's subscriptions never reach the tenant's new owner.
func TestLateDownOfRestartedPeerAsksForResync(t *testing.T) {
	oldOwner := cluster.Member{Name: "owner", Region: "local", Epoch: 1}
	newOwner := cluster.Member{Name: "owner", Region: "local", Epoch: 2}
	mesh := &fakeMesh{self: cluster.Member{Name: "self", Region: "local", Epoch: 1}, peers: []cluster.Member{newOwner}}
	tn := &tenant.Tenant{ExternalID: "t1", PostgresChanges: true}
	l := New(Config{Mesh: mesh, Log: testLog(), Tenants: func(string) (*tenant.Tenant, bool) { return tn, true }}, bareService)
	unsub := l.Subscribe(context.Background(), tn, map[string]any{"role": "anon"},
		mustParseBindings(t, `[{"event":"*","schema":"public","table":"x"}]`), nopSub{})
	defer unsub()
	l.onControl(newOwner, control{Op: opClaim, Tenant: "t1", N: 7}.encode())
	if n := mesh.sentCount("owner", cluster.TypeChangeRegister); n != 1 {
		t.Fatalf("registrations sent to the claiming owner = %d, want 1", n)
	}
	l.peerDown(oldOwner) // late: the new instance is already linked
	if n := mesh.controls("owner", opResync); n != 1 {
		t.Fatalf("resync requests to the restarted owner = %d, want 1", n)
	}
	// The resync makes the owner claim again; the subscription is registered with it again.
	l.onControl(newOwner, control{Op: opClaim, Tenant: "t1", N: 8}.encode())
	if n := mesh.sentCount("owner", cluster.TypeChangeRegister); n != 2 {
		t.Errorf("registrations sent after the resync claim = %d, want 2", n)
	}
}

func (m *fakeMesh) sentCount(peer string, typ byte) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sent {
		if s.peer == peer && s.typ == typ {
			n++
		}
	}
	return n
}

// bareService is a layer's Service without pools or metrics (tests that never stream).
func bareService(gate changes.StreamGate, barrier changes.Barrier) *changes.Service {
	return changes.NewService(nil, nil, testLog(), nil, changes.Hooks{Gate: gate, Barrier: barrier})
}

func mustParseBindings(t *testing.T, raw string) []changes.Binding {
	t.Helper()
	bs, err := changes.ParseBindings([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return bs
}
