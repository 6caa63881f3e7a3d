package remote

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/internal/rowlog"
	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func testLog() *slog.Logger {
	if os.Getenv("REMOTE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testNode is one in-process node: mesh, owner, changes service and remote layer.
type testNode struct {
	name  string
	mesh  *cluster.Mesh
	owner *MeshOwner
	svc   *changes.Service
	layer *Layer
	stop  func()
}

// slowClaims is a mesh whose nodes handle claims late (a slow or congested link): the claim's
// reader stalls, as a real link's would, so everything after it on that link waits too.
type slowClaims struct {
	*cluster.Mesh
	delay time.Duration
}

func (m slowClaims) Handle(typ byte, fn cluster.Handler) {
	if typ != cluster.TypeChangeControl || m.delay == 0 {
		m.Mesh.Handle(typ, fn)
		return
	}
	m.Mesh.Handle(typ, func(from cluster.Member, p []byte) {
		if len(p) > 0 && p[0] == opClaim {
			time.Sleep(m.delay)
		}
		fn(from, p)
	})
}

// testCluster is a set of in-process nodes knowing each other statically.
type testCluster struct {
	t          *testing.T
	tn         *tenant.Tenant
	members    []cluster.Member
	claimDelay time.Duration
	nodes      []*testNode
}

// startCluster starts one node per loopback address; each node handles claims claimDelay late.
func startCluster(t *testing.T, tn *tenant.Tenant, claimDelay time.Duration, ips ...string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, tn: tn, claimDelay: claimDelay}
	var lns []net.Listener
	for i, ip := range ips {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("listen on %s: %v", ip, err)
		}
		lns = append(lns, ln)
		c.members = append(c.members, cluster.Member{Name: "n" + strconv.Itoa(i+1), Region: "local",
			Addr: ln.Addr().String(), Epoch: time.Now().UnixNano()})
	}
	for i := range c.members {
		c.nodes = append(c.nodes, c.startNode(i, lns[i]))
	}
	c.waitMesh(c.nodes)
	return c
}

func (c *testCluster) waitMesh(nodes []*testNode) {
	c.t.Helper()
	testutil.Eventually(c.t, 10*time.Second, "full mesh", func() bool {
		for _, n := range nodes {
			if len(n.mesh.Peers()) != len(nodes)-1 {
				return false
			}
		}
		return true
	})
}

// restart starts node i again (after its stop) at the same address with a new epoch.
func (c *testCluster) restart(i int) *testNode {
	c.t.Helper()
	var ln net.Listener
	testutil.Eventually(c.t, 5*time.Second, "the old address", func() bool {
		var err error
		ln, err = net.Listen("tcp", c.members[i].Addr)
		return err == nil
	})
	c.members[i].Epoch = time.Now().UnixNano()
	c.nodes[i] = c.startNode(i, ln)
	c.waitMesh(c.nodes)
	return c.nodes[i]
}

func (c *testCluster) startNode(i int, ln net.Listener) *testNode {
	self, tn := c.members[i], c.tn
	tenants := func(id string) (*tenant.Tenant, bool) { return tn, id == tn.ExternalID }
	log := testLog().With("node", self.Name)
	disc := cluster.NewStaticDiscovery(c.members...)
	mesh := cluster.NewMesh(self, testSecret, disc,
		cluster.Options{Listener: ln, PingInterval: 200 * time.Millisecond, DeadAfter: 2 * time.Second}, log, nil)
	owner := NewMeshOwner(OwnerConfig{Mesh: mesh, Tenants: tenants, Warmup: 300 * time.Millisecond, Members: disc.Members, Log: log})
	mgr := tenantdb.NewManager(log, tenantdb.Options{JanitorInterval: -1, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	layer := New(Config{Mesh: slowClaims{mesh, c.claimDelay}, Tenants: tenants, Log: log},
		func(gate changes.StreamGate, barrier changes.Barrier) *changes.Service {
			return changes.NewService(mgr, owner, log, prometheus.NewRegistry(), changes.Hooks{Gate: gate, Barrier: barrier})
		})
	svc := layer.Service()
	n := &testNode{name: self.Name, mesh: mesh, owner: owner, svc: svc, layer: layer}
	n.stop = runAll(c.t, mgr.Close, mesh.Run, owner.Run, layer.Run, svc.Run)
	svc.Watch(tn)
	return n
}

// runAll runs every function under one context; the returned stop cancels and waits (idempotent).
func runAll(t *testing.T, after func(), fns ...func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); _ = f(ctx) }()
	}
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait(); after() }) }
	t.Cleanup(stop)
	return stop
}

// recorder is a channel stand-in: it logs the ids of the rows delivered and the system messages.
type recorder struct{ *rowlog.Log }

func newRecorder() *recorder { return &recorder{rowlog.New()} }

func (r *recorder) PostgresChange(_ []int64, data json.RawMessage) {
	var d struct {
		Record struct {
			ID int64 `json:"id"`
		} `json:"record"`
	}
	_ = json.Unmarshal(data, &d)
	r.Row(d.Record.ID)
}
