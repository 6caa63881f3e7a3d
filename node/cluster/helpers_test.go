package cluster

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func testLogger(w io.Writer) *slog.Logger {
	if w == nil {
		w = io.Discard
		if testing.Verbose() && os.Getenv("CLUSTER_TEST_LOGS") != "" {
			w = os.Stderr
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// listenOn binds a free port on a loopback address such as 127.0.0.2.
func listenOn(t testing.TB, ip string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	return ln
}

// node is one running mesh in a test.
type node struct {
	m    *Mesh
	stop func() // idempotent; also run at test end
}

// startNode runs m until the test ends or stop is called.
func startNode(t testing.TB, m *Mesh) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	n := &node{m: m, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("mesh %s: %v", m.self.Name, err)
			}
		})
	}}
	t.Cleanup(n.stop)
	return n
}

// runCtx runs f(ctx) in a goroutine stopped at test end.
func runCtx(t testing.TB, f func(context.Context) error) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// cluster builds n meshes on 127.0.0.1..n with a shared static member list; regions[i] is node
// i's region.
type testCluster struct {
	members []Member
	meshes  []*Mesh
}

func newTestCluster(t testing.TB, regions []string, opts Options) *testCluster {
	t.Helper()
	c := &testCluster{}
	var lns []net.Listener
	for i, region := range regions {
		ln := listenOn(t, "127.0.0."+string(rune('1'+i)))
		lns = append(lns, ln)
		c.members = append(c.members, Member{
			Name: "node" + string(rune('1'+i)), Region: region, Addr: ln.Addr().String(), Epoch: time.Now().UnixNano(),
		})
	}
	for i, self := range c.members {
		o := opts
		o.Listener = lns[i]
		c.meshes = append(c.meshes, NewMesh(self, testSecret, NewStaticDiscovery(c.members...), o, testLogger(nil), nil))
	}
	return c
}

func (c *testCluster) start(t testing.TB) []*node {
	var nodes []*node
	for _, m := range c.meshes {
		nodes = append(nodes, startNode(t, m))
	}
	c.waitConnected(t)
	return nodes
}

func (c *testCluster) waitConnected(t testing.TB) {
	t.Helper()
	for _, m := range c.meshes {
		testutil.Eventually(t, 10*time.Second, m.self.Name+" connected to every peer", func() bool {
			return len(m.Peers()) == len(c.meshes)-1
		})
	}
}

// cutLink closes the current connection to peer as a network failure would (test hook).
func (m *Mesh) cutLink(peer string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.peers[peer]
	if p == nil || p.link == nil {
		return false
	}
	_ = p.link.conn.Close()
	return true
}

func netDial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 2*time.Second) }
