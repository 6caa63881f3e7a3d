package cluster

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"
)

func TestDialTargets(t *testing.T) {
	self := Member{Name: "b", Addr: "10.0.0.2:1"}
	cases := []struct {
		name      string
		members   []Member
		addrNames map[string]string
		selfAddrs map[string]bool
		want      []string // addrs
	}{
		{"lower name dials higher only", []Member{
			{Name: "a", Addr: "10.0.0.1:1"}, self, {Name: "c", Addr: "10.0.0.3:1"},
		}, nil, nil, []string{"10.0.0.3:1"}},
		{"nameless members are dialed", []Member{
			{Addr: "10.0.0.1:1"}, {Addr: "10.0.0.2:1"}, {Addr: "10.0.0.3:1"},
		}, nil, nil, []string{"10.0.0.1:1", "10.0.0.3:1"}},
		{"learned names apply the rule", []Member{
			{Addr: "10.0.0.1:1"}, {Addr: "10.0.0.3:1"},
		}, map[string]string{"10.0.0.1:1": "a", "10.0.0.3:1": "c"}, nil, []string{"10.0.0.3:1"}},
		{"own address seen under another form is skipped", []Member{
			{Addr: "10.0.0.9:1"}, {Addr: "10.0.0.3:1"},
		}, nil, map[string]bool{"10.0.0.9:1": true}, []string{"10.0.0.3:1"}},
		{"own name at another address is skipped", []Member{
			{Name: "b", Addr: "10.0.0.7:1"}, {Addr: ""},
		}, nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for addr := range dialTargets(self, tc.members, tc.addrNames, tc.selfAddrs) {
				got = append(got, addr)
			}
			slices.Sort(got)
			if !equalStrings(got, tc.want) {
				t.Fatalf("targets %v, want %v", got, tc.want)
			}
		})
	}
}

// Addresses learned in handshakes must be forgotten once discovery stops listing them: with DNS
// discovery every pod restart brings a new address.
func TestReconcileForgetsStaleAddrs(t *testing.T) {
	self := Member{Name: "b", Addr: "10.0.0.2:1"}
	listed := Member{Addr: "10.0.0.1:1"}
	m := NewMesh(self, testSecret, NewStaticDiscovery(self, listed), Options{}, testLogger(nil), nil)
	peer := Member{Name: "c", Addr: "10.0.0.3:1"} // known peer, not listed (yet)
	m.mu.Lock()
	m.peers[peer.Name] = &peerState{member: peer, q: newSendQueue(1, 1), downAt: time.Now()}
	m.addrNames[listed.Addr] = "a"
	m.addrNames[peer.Addr] = peer.Name
	m.addrNames["10.0.0.9:1"] = "gone"
	m.selfAddrs["10.0.0.8:1"] = true
	m.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no dial loop may outlive the test
	m.reconcile(ctx)
	m.wg.Wait()

	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]string{listed.Addr: "a", peer.Addr: peer.Name}
	if !maps.Equal(m.addrNames, want) {
		t.Fatalf("addrNames %v, want %v", m.addrNames, want)
	}
	if len(m.selfAddrs) != 0 {
		t.Fatalf("selfAddrs %v, want empty", m.selfAddrs)
	}
}
