package cluster

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

const typeTest byte = 40

// recorder collects (from, seq) per sender and checks order.
type recorder struct {
	mu     sync.Mutex
	next   map[string]uint64 // next expected seq per sender
	errors []string
}

func newRecorder() *recorder { return &recorder{next: map[string]uint64{}} }

func (r *recorder) handle(from Member, p []byte) {
	seq := binary.BigEndian.Uint64(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq != r.next[from.Name] {
		r.errors = append(r.errors, fmt.Sprintf("from %s: got seq %d, want %d", from.Name, seq, r.next[from.Name]))
	}
	r.next[from.Name] = seq + 1
}

func (r *recorder) count(from string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next[from]
}

func (r *recorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errors) > 0 {
		t.Fatalf("order violations (%d): %v", len(r.errors), r.errors[:min(5, len(r.errors))])
	}
}

func seqPayload(seq uint64, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, seq)
	return b
}

// TestMeshOrderedDelivery: three nodes on three loopback addresses exchange messages; every
// message arrives, in order per sender, tagged with the right sender.
func TestMeshOrderedDelivery(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "eu", "us"}, Options{})
	recs := make([]*recorder, len(c.meshes))
	for i, m := range c.meshes {
		recs[i] = newRecorder()
		m.Handle(typeTest, recs[i].handle)
	}
	c.start(t)
	for _, m := range c.meshes {
		for _, p := range m.Peers() {
			want := c.members[int(p.Name[4]-'1')]
			if p != want {
				t.Fatalf("%s sees peer %+v, want %+v", m.self.Name, p, want)
			}
		}
	}
	const n = 5000
	var wg sync.WaitGroup
	for _, m := range c.meshes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := uint64(0); seq < n; seq++ {
				for _, p := range c.members {
					if p.Name != m.self.Name && !m.Send(p.Name, typeTest, seqPayload(seq, 100)) {
						t.Errorf("%s: send %d to %s dropped", m.self.Name, seq, p.Name)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for i, m := range c.meshes {
		for _, p := range c.members {
			if p.Name != m.self.Name {
				testutil.Eventually(t, 10*time.Second, fmt.Sprintf("%s receiving all from %s", m.self.Name, p.Name), func() bool {
					return recs[i].count(p.Name) == n
				})
			}
		}
		recs[i].check(t)
	}
}

// TestMeshRefusesWrongSecret: a node with the wrong secret, listed in everyone's discovery and
// listing everyone, never gets a link and none of its messages are delivered; a raw TCP client
// forging a handshake is refused too. Refusals are logged.
func TestMeshRefusesWrongSecret(t *testing.T) {
	var logs testutil.LockedBuffer
	lns := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	var members []Member
	for i, ip := range lns {
		ln := listenOn(t, ip)
		members = append(members, Member{Name: fmt.Sprintf("node%d", i+1), Region: "eu", Addr: ln.Addr().String(), Epoch: 1})
		ln.Close() // re-bound by the mesh below
	}
	disc := NewStaticDiscovery(members...)
	recs := []*recorder{newRecorder(), newRecorder(), newRecorder()}
	var meshes []*Mesh
	for i, self := range members {
		secret := testSecret
		if i == 1 { // node2, in the middle: it dials node3 and is dialed by node1
			secret = []byte("not the cluster secret")
		}
		m := NewMesh(self, secret, disc, Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, testLogger(&logs), nil)
		m.Handle(typeTest, recs[i].handle)
		meshes = append(meshes, m)
		startNode(t, m)
	}
	good1, bad, good3 := meshes[0], meshes[1], meshes[2]
	testutil.Eventually(t, 10*time.Second, "good nodes linked", func() bool { return len(good1.Peers()) == 1 && len(good3.Peers()) == 1 })
	for i := uint64(0); i < 50; i++ {
		bad.Send("node1", typeTest, seqPayload(i, 8))
		bad.Send("node3", typeTest, seqPayload(i, 8))
	}
	forgeHandshake(t, members[0].Addr)
	testutil.Eventually(t, 10*time.Second, "refusals logged on both good nodes", func() bool {
		return strings.Count(logs.String(), "refused cluster link: peer failed authentication") >= 2
	})
	time.Sleep(500 * time.Millisecond) // let any (wrongly) admitted message arrive
	for _, m := range []*Mesh{good1, good3} {
		if got := m.Peers(); len(got) != 1 || got[0].Name == "node2" {
			t.Errorf("%s peers = %v, want only the other good node", m.self.Name, got)
		}
	}
	if len(bad.Peers()) != 0 {
		t.Errorf("intruder has peers %v", bad.Peers())
	}
	if recs[0].count("node2") != 0 || recs[2].count("node2") != 0 {
		t.Errorf("intruder's messages delivered: node1 got %d, node3 got %d", recs[0].count("node2"), recs[2].count("node2"))
	}
	if !strings.Contains(logs.String(), "cluster peer failed authentication") {
		t.Errorf("dialer-side failure not logged")
	}
	if strings.Contains(logs.String(), string(testSecret)) {
		t.Errorf("secret appears in logs")
	}
}

// forgeHandshake plays a dialer without the secret: a hello, a guessed proof, then a data frame.
func forgeHandshake(t *testing.T, addr string) {
	t.Helper()
	conn, err := netDial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hello := append(append([]byte(handshakeMagic), make([]byte, nonceLen)...), `{"name":"evil","addr":"1.2.3.4:5"}`...)
	_ = sendFrame(conn, typeHello, hello)
	_ = sendFrame(conn, typeProof, make([]byte, 32))
	_ = sendFrame(conn, typeTest, seqPayload(0, 8))
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		if _, err := conn.Read(buf); err != nil {
			return // closed by the acceptor
		}
	}
}

// TestMeshLinkCutRepaired: cutting the TCP connection is detected, messages sent while the link
// is down are queued, and after the automatic redial they (and later ones) arrive in order.
func TestMeshLinkCutRepaired(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "eu"}, Options{MinBackoff: 500 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	n1, n2 := c.meshes[0], c.meshes[1]
	rec := newRecorder()
	n2.Handle(typeTest, rec.handle)
	events := n1.PeerEvents()
	c.start(t)
	if ev := <-events; ev.Kind != PeerUp || ev.Peer.Name != "node2" {
		t.Fatalf("first event %+v, want node2 up", ev)
	}
	seq := uint64(0)
	send := func(k int) {
		for i := 0; i < k; i++ {
			if !n1.Send("node2", typeTest, seqPayload(seq, 64)) {
				t.Fatalf("send %d dropped", seq)
			}
			seq++
		}
	}
	send(100)
	testutil.Eventually(t, 5*time.Second, "first batch", func() bool { return rec.count("node1") == 100 })

	if !n1.cutLink("node2") {
		t.Fatal("no link to cut")
	}
	if ev := <-events; ev.Kind != PeerDown {
		t.Fatalf("after cut: event %+v, want down", ev)
	}
	send(100) // node1 dials node2 again only after the 250-500 ms backoff: these queue
	if d := n1.peerOf("node2").q.depth(); d != 100 {
		t.Fatalf("queue depth while down = %d, want 100", d)
	}
	if ev := <-events; ev.Kind != PeerUp {
		t.Fatalf("after repair: event %+v, want up", ev)
	}
	send(100)
	testutil.Eventually(t, 5*time.Second, "queued and later messages after repair", func() bool { return rec.count("node1") == 300 })
	rec.check(t)
}

// TestMeshPeerRestart: a peer that stops is reported down; when it comes back as a new process
// (new epoch, same address) it is reported up with the new epoch.
func TestMeshPeerRestart(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "eu"}, Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	events := c.meshes[0].PeerEvents()
	nodes := c.start(t)
	if ev := <-events; ev.Kind != PeerUp || ev.Peer.Epoch != c.members[1].Epoch {
		t.Fatalf("event %+v", ev)
	}
	nodes[1].stop()
	if ev := <-events; ev.Kind != PeerDown || ev.Peer.Name != "node2" {
		t.Fatalf("after stop: %+v", ev)
	}
	reborn := c.members[1]
	reborn.Epoch++
	m := NewMesh(reborn, testSecret, NewStaticDiscovery(c.members[0], reborn), Options{}, testLogger(nil), nil)
	startNode(t, m)
	if ev := <-events; ev.Kind != PeerUp || ev.Peer.Epoch != reborn.Epoch {
		t.Fatalf("after restart: %+v, want up with epoch %d", ev, reborn.Epoch)
	}
}
