package clustertest

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/realtimeops/realtime/test/conformance"
)

// Test credentials. The cluster secret is what nodes prove to each other; JWTSecret signs the
// clients' tokens for every test tenant.
const (
	ClusterSecret = "cluster-test-secret-0123456789abcdef"
	WrongSecret   = "not-the-cluster-secret-fedcba9876543210"
	JWTSecret     = "cluster-test-tenant-jwt-secret-0123456789"
	// DefaultTenant is the tenant every node serves when the Host names none.
	DefaultTenant = "cluster-dev"
)

// Generous keeps rate limits out of the way of the scenarios (the limiters average over 60 s).
var Generous = map[string]int{
	"maxConcurrentUsers":         10000,
	"maxEventsPerSecond":         100000,
	"maxJoinsPerSecond":          10000,
	"maxPresenceEventsPerSecond": 100000,
	"maxChannelsPerClient":       100,
}

// Cluster is a set of nodes of one test, addressed by short ids ("n1", "n2", ...) that the JS
// scenarios use too.
type Cluster struct {
	Nodes map[string]*Node
	IDs   []string // start order
}

// Add records n under id.
func (c *Cluster) Add(id string, n *Node) {
	if c.Nodes == nil {
		c.Nodes = map[string]*Node{}
	}
	c.Nodes[id] = n
	c.IDs = append(c.IDs, id)
}

// Node returns the node with id, or an error naming the known ids.
func (c *Cluster) Node(id string) (*Node, error) {
	n := c.Nodes[id]
	if n == nil {
		return nil, fmt.Errorf("no node %q (have %v)", id, c.IDs)
	}
	return n, nil
}

// Env is the environment of a JS scenario: RT_NODES (id -> name, region, ws and http URLs),
// RT_TOKEN (valid for the default tenant), RT_JWT_SECRET and RT_CONTROL_URL.
func (c *Cluster) Env(ctl *Control, extra ...string) []string {
	type jsNode struct {
		Name   string `json:"name"`
		Region string `json:"region"`
		WS     string `json:"ws"`
		HTTP   string `json:"http"`
		Admin  string `json:"admin"` // /status and /metrics (--admin-addr)
	}
	nodes := map[string]jsNode{}
	for id, n := range c.Nodes {
		nodes[id] = jsNode{Name: n.Spec.Name, Region: n.Spec.Region, WS: n.WSURL(), HTTP: n.HTTPURL(),
			Admin: "http://" + n.AdminAddr}
	}
	b, _ := json.Marshal(nodes) // plain strings cannot fail
	env := []string{
		"RT_NODES=" + string(b),
		"RT_TOKEN=" + conformance.MustSign([]byte(JWTSecret), conformance.Claims(time.Hour)),
		"RT_JWT_SECRET=" + JWTSecret,
	}
	if ctl != nil {
		env = append(env, "RT_CONTROL_URL="+ctl.URL)
	}
	return append(env, extra...)
}

// ProcessOps are the control operations every cluster offers its scenario: kill (SIGKILL),
// restart (a new process with the same name and addresses; it waits for /readyz and then for
// the mesh of every running node to be complete), and wait-mesh.
func (c *Cluster) ProcessOps() map[string]Op {
	return map[string]Op{
		"kill": func(a map[string]string) (any, error) {
			n, err := c.Node(a["node"])
			if err != nil {
				return nil, err
			}
			pid := n.Pid()
			n.Kill()
			return map[string]any{"pid": pid, "at": time.Now().UnixMilli()}, nil
		},
		"restart": func(a map[string]string) (any, error) {
			n, err := c.Node(a["node"])
			if err != nil {
				return nil, err
			}
			if err := n.Start(); err != nil {
				return nil, err
			}
			return map[string]any{"pid": n.Pid()}, c.WaitRunningMesh(15 * time.Second)
		},
		// start is restart for a node prepared with NewNode and never started.
		"start": func(a map[string]string) (any, error) {
			n, err := c.Node(a["node"])
			if err != nil {
				return nil, err
			}
			if err := n.Start(); err != nil {
				return nil, err
			}
			return map[string]any{"pid": n.Pid()}, c.WaitRunningMesh(15 * time.Second)
		},
		"wait-mesh": func(map[string]string) (any, error) { return nil, c.WaitRunningMesh(15 * time.Second) },
	}
}

// WaitRunningMesh waits until the nodes with a running process form a full mesh.
func (c *Cluster) WaitRunningMesh(timeout time.Duration) error {
	var running []*Node
	for _, id := range c.IDs {
		if n := c.Nodes[id]; n.Pid() != 0 {
			running = append(running, n)
		}
	}
	return WaitMesh(timeout, running...)
}

// WriteTenants writes the default tenant (generous limits, presence enabled) plus extra into a
// tenants file in a temp dir of t.
func WriteTenants(t testing.TB, extra ...conformance.Tenant) string {
	t.Helper()
	ts := append([]conformance.Tenant{{ExternalID: DefaultTenant, JWTSecret: JWTSecret, Limits: Generous}}, extra...)
	path, err := conformance.WriteTenants(t.TempDir(), ts)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Millis formats d for a JS environment variable.
func Millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// BuildNodeBinary returns $REALTIME_NODE_BIN when set, else builds cmd/realtime-node into dir.
func BuildNodeBinary(dir string) (string, error) {
	if p, ok, err := conformance.EnvNodeBinary(); ok || err != nil {
		return p, err
	}
	root, err := conformance.RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "realtime-node")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/realtime-node")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/realtime-node: %w\n%s", err, b)
	}
	return out, nil
}
