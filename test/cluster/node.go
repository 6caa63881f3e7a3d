// Package clustertest runs several realtime-node processes as one cluster on 127.0.0.x loopback
// addresses and drives them with the unmodified realtime-js client (JavaScript scenarios under
// js/, run by Node's test runner) and, for the benchmarks, with raw V2 WebSocket clients. Process
// faults (SIGKILL, restart) and network faults (a fault-injecting TCP proxy on a cluster link)
// are injected by the Go side; JS scenarios ask for them through a small HTTP control server.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

// Peer is one entry of a static --cluster-peers list.
type Peer struct {
	Name, Region, Addr string
}

// NodeSpec describes one node process. Zero ports are picked free on IP at first start and kept
// across restarts, so a restarted node comes back at the same addresses.
type NodeSpec struct {
	Name   string
	Region string
	IP     string // 127.0.0.N; HTTP and cluster listeners bind here
	// HTTPPort and ClusterPort; 0 picks a free port on IP.
	HTTPPort, ClusterPort int
	// Discovery is "static" or "postgres"; empty runs the node alone (no cluster flags).
	Discovery   string
	Peers       []Peer // static discovery: the other nodes (addresses may point at proxies)
	DSN         string // postgres discovery
	ClusterName string
	Secret      string // CLUSTER_SECRET
	// TenantsFile and DefaultTenant as for the conformance suite.
	TenantsFile   string
	DefaultTenant string
	// PresencePeriod and DownPeriod map to --presence-broadcast-period / --presence-down-period.
	PresencePeriod, DownPeriod time.Duration
	LogLevel                   string
	Args                       []string
	Env                        []string
}

// Node is one node of a test cluster; it survives Kill/Restart of its process.
type Node struct {
	Spec        NodeSpec
	HTTPAddr    string // IP:port of HTTP and WebSocket
	ClusterAddr string // IP:port of the inter-node link listener
	AdminAddr   string // IP:port of /metrics and /status (--admin-addr)
	bin         string

	mu   sync.Mutex
	proc *testutil.Proc // current process, nil before the first start
	logs testutil.LockedBuffer
	gen  int // how many processes were started
}

// StartNode starts spec's process, waits until /readyz answers and stops it when the test ends
// (printing its logs if the test failed).
func StartNode(t testing.TB, bin string, spec NodeSpec) *Node {
	t.Helper()
	n := NewNode(t, bin, spec)
	if err := n.Start(); err != nil {
		t.Fatalf("node %s: %v\nlog:\n%s", spec.Name, err, n.Logs())
	}
	return n
}

// NewNode prepares a node (addresses fixed, cleanup registered) without starting it; Start
// launches it later, e.g. from a scenario's control operation.
func NewNode(t testing.TB, bin string, spec NodeSpec) *Node {
	t.Helper()
	n, err := newNode(bin, spec)
	if err != nil {
		t.Fatalf("node %s: %v", spec.Name, err)
	}
	t.Cleanup(func() {
		start := time.Now()
		n.Stop()
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("node %s took %s to stop after SIGTERM", spec.Name, d.Round(time.Millisecond))
		}
		if t.Failed() {
			t.Logf("log of node %s (%s, cluster %s):\n%s", spec.Name, n.HTTPAddr, n.ClusterAddr, n.Logs())
		}
	})
	return n
}

// newNode fixes the node's addresses without starting it.
func newNode(bin string, spec NodeSpec) (*Node, error) {
	var err error
	if spec.HTTPPort == 0 {
		if spec.HTTPPort, err = FreePort(spec.IP); err != nil {
			return nil, err
		}
	}
	if spec.ClusterPort == 0 {
		if spec.ClusterPort, err = FreePort(spec.IP); err != nil {
			return nil, err
		}
	}
	adminPort, err := FreePort(spec.IP)
	if err != nil {
		return nil, err
	}
	return &Node{
		Spec: spec, bin: bin,
		HTTPAddr:    net.JoinHostPort(spec.IP, strconv.Itoa(spec.HTTPPort)),
		ClusterAddr: net.JoinHostPort(spec.IP, strconv.Itoa(spec.ClusterPort)),
		AdminAddr:   net.JoinHostPort(spec.IP, strconv.Itoa(adminPort)),
	}, nil
}

// HTTPURL is the node's origin, e.g. http://127.0.0.2:41234.
func (n *Node) HTTPURL() string { return "http://" + n.HTTPAddr }

// WSURL is the endpoint realtime-js is given (it appends /websocket).
func (n *Node) WSURL() string { return "ws://" + n.HTTPAddr + "/socket" }

// Logs returns what every process of this node printed so far.
func (n *Node) Logs() string { return n.logs.String() }

// Pid of the running process, 0 when none runs.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || n.proc.Exited() {
		return 0
	}
	return n.proc.Cmd.Process.Pid
}

func (n *Node) args() []string {
	s := n.Spec
	args := []string{
		"--addr", n.HTTPAddr, "--admin-addr", n.AdminAddr, "--tenants", s.TenantsFile,
		"--node-name", s.Name, "--region", s.Region, "--drain-window", "100ms",
	}
	if s.DefaultTenant != "" {
		args = append(args, "--default-tenant", s.DefaultTenant)
	}
	if s.LogLevel != "" {
		args = append(args, "--log-level", s.LogLevel)
	}
	if s.Discovery != "" {
		args = append(args, n.clusterArgs()...)
	}
	return append(args, s.Args...)
}

func (n *Node) clusterArgs() []string {
	s := n.Spec
	args := []string{"--cluster", s.Discovery, "--cluster-addr", n.ClusterAddr}
	if s.ClusterName != "" {
		args = append(args, "--cluster-name", s.ClusterName)
	}
	if len(s.Peers) > 0 {
		items := make([]string, len(s.Peers))
		for i, p := range s.Peers {
			items[i] = fmt.Sprintf("%s@%s=%s", p.Name, p.Region, p.Addr)
		}
		args = append(args, "--cluster-peers", strings.Join(items, ","))
	}
	if s.DSN != "" {
		args = append(args, "--cluster-db", s.DSN)
	}
	if s.PresencePeriod > 0 {
		args = append(args, "--presence-broadcast-period", s.PresencePeriod.String())
	}
	if s.DownPeriod > 0 {
		args = append(args, "--presence-down-period", s.DownPeriod.String())
	}
	return args
}

// Start launches a new process (the first one, or a restart after Kill/Stop) and waits for
// /readyz. It fails if a process of this node is still running.
func (n *Node) Start() error {
	n.mu.Lock()
	if n.proc != nil && !n.proc.Exited() {
		n.mu.Unlock()
		return errors.New("a process of this node is still running")
	}
	n.gen++
	fmt.Fprintf(&n.logs, "----- process #%d of %s: %s %s\n", n.gen, n.Spec.Name, n.bin, strings.Join(n.args(), " "))
	cmd := exec.Command(n.bin, n.args()...)
	cmd.Env = append(os.Environ(), "CHANNEL_ERROR_BACKOFF_MS=100", "CONNECT_ERROR_BACKOFF_MS=100",
		"CLUSTER_SECRET="+n.Spec.Secret)
	cmd.Env = append(cmd.Env, n.Spec.Env...)
	cmd.Stdout, cmd.Stderr = &n.logs, &n.logs
	p, err := testutil.Start(cmd)
	if err != nil {
		n.mu.Unlock()
		return err
	}
	n.proc = p
	n.mu.Unlock()
	return n.waitReady(p, 20*time.Second)
}

// Kill ends the process with SIGKILL, as a crash would, and waits until it is gone.
func (n *Node) Kill() {
	if p := n.current(); p != nil {
		p.Kill()
	}
}

// Stop ends the process with SIGTERM (SIGKILL after 5 s). Safe to call when nothing runs.
func (n *Node) Stop() {
	if p := n.current(); p != nil {
		p.Stop(5 * time.Second)
	}
}

// current is the node's process, nil before the first start.
func (n *Node) current() *testutil.Proc {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc
}

func (n *Node) waitReady(p *testutil.Proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		select {
		case <-p.Done():
			return fmt.Errorf("node exited during startup: %v", p.Err())
		case <-ctx.Done():
			return fmt.Errorf("no 200 from /readyz within %s (last: %v)", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
		code, err := httpGet(ctx, n.HTTPURL()+"/readyz", nil)
		if err == nil && code == 200 {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("status %d", code)
		}
	}
}

// FreePort returns a port that was free on ip a moment ago (internal/testutil.FreePort).
func FreePort(ip string) (int, error) { return testutil.FreePort(ip) }
