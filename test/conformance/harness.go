// Package conformance drives a real realtime-node binary with the unmodified @supabase/realtime-js
// client. The Go side builds and starts nodes and mints tokens; the scenarios are JavaScript files
// under js/ run by Node's test runner. The helpers here are exported so other suites (Postgres
// Changes, e2e) can start nodes the same way.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

// NodeOptions describes one node process.
type NodeOptions struct {
	// Binary is the realtime-node executable; empty means BuildNode's result.
	Binary        string
	TenantsFile   string
	DefaultTenant string
	LogLevel      string
	// Env is added to the environment (KEY=VALUE); the fast backoffs of upstream's test setup
	// (CHANNEL_ERROR_BACKOFF_MS=100, CONNECT_ERROR_BACKOFF_MS=100) are always set first.
	Env  []string
	Args []string
	// ReadyTimeout bounds the wait for /readyz; default 20 s.
	ReadyTimeout time.Duration
}

// Node is a running realtime-node.
type Node struct {
	Addr    string // 127.0.0.1:PORT
	HTTPURL string // http://127.0.0.1:PORT
	// AdminURL serves /metrics and /status (--admin-addr), which the client port does not.
	AdminURL string
	Pid      int

	proc *testutil.Proc
	logs *lockedBuffer
}

// StartNode starts a node on a free loopback port, waits until /readyz answers 200 and stops it
// when the test ends. On test failure the node's log is printed.
func StartNode(t testing.TB, opts NodeOptions) *Node {
	t.Helper()
	bin := opts.Binary
	if bin == "" {
		bin = BuildNode(t)
	}
	port, err := testutil.FreePort("")
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	n := &Node{Addr: "127.0.0.1:" + strconv.Itoa(port), logs: &lockedBuffer{}}
	n.HTTPURL = "http://" + n.Addr
	adminPort, err := testutil.FreePort("")
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	adminAddr := "127.0.0.1:" + strconv.Itoa(adminPort)
	n.AdminURL = "http://" + adminAddr
	args := []string{"--addr", n.Addr, "--admin-addr", adminAddr, "--tenants", opts.TenantsFile}
	if opts.DefaultTenant != "" {
		args = append(args, "--default-tenant", opts.DefaultTenant)
	}
	if opts.LogLevel != "" {
		args = append(args, "--log-level", opts.LogLevel)
	}
	args = append(args, opts.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "CHANNEL_ERROR_BACKOFF_MS=100", "CONNECT_ERROR_BACKOFF_MS=100"), opts.Env...)
	cmd.Stdout, cmd.Stderr = n.logs, n.logs
	if n.proc, err = testutil.Start(cmd); err != nil {
		t.Fatal(err)
	}
	n.Pid = cmd.Process.Pid
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("realtime-node log (%s):\n%s", n.Addr, n.Logs())
		}
	})
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	if err := n.waitReady(timeout); err != nil {
		t.Fatalf("node not ready: %v\nlog:\n%s", err, n.Logs())
	}
	return n
}

// WSURL is the endpoint realtime-js is given (it appends /websocket).
func (n *Node) WSURL(prefix string) string { return "ws://" + n.Addr + prefix }

// Logs returns everything the node printed so far.
func (n *Node) Logs() string { return n.logs.String() }

// Stop ends the node with SIGTERM, then SIGKILL after 5 s. Safe to call twice.
func (n *Node) Stop() { n.proc.Stop(5 * time.Second) }

func (n *Node) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		select {
		case <-n.proc.Done():
			return fmt.Errorf("node exited early: %v", n.proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("no 200 from /readyz within %s (last: %v)", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(n.HTTPURL + "/readyz")
		if err != nil {
			last = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		last = fmt.Errorf("status %d", resp.StatusCode)
	}
}

var build struct {
	once sync.Once
	path string
	err  error
}

// EnvNodeBinary returns $REALTIME_NODE_BIN as an absolute path (ok false when unset). A relative
// path is taken from the repository root, where the documented commands are typed
// (`REALTIME_NODE_BIN=bin/realtime-node go test ./test/...`): go test runs each package in its own
// directory, so resolving it there named a binary that does not exist.
func EnvNodeBinary() (path string, ok bool, err error) {
	p := os.Getenv("REALTIME_NODE_BIN")
	if p == "" {
		return "", false, nil
	}
	if filepath.IsAbs(p) {
		return p, true, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", true, err
	}
	return filepath.Join(root, p), true, nil
}

// BuildNode returns the realtime-node binary: $REALTIME_NODE_BIN when set (the Makefile passes
// bin/realtime-node), otherwise one `go build` per test process into a temp dir.
func BuildNode(t testing.TB) string {
	t.Helper()
	if p, ok, err := EnvNodeBinary(); ok || err != nil {
		if err != nil {
			t.Fatalf("REALTIME_NODE_BIN: %v", err)
		}
		return p
	}
	build.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			build.err = err
			return
		}
		dir, err := os.MkdirTemp("", "realtime-conformance-bin-")
		if err != nil {
			build.err = fmt.Errorf("temp dir: %w", err)
			return
		}
		build.path = filepath.Join(dir, "realtime-node")
		cmd := exec.Command("go", "build", "-o", build.path, "./cmd/realtime-node")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/realtime-node: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// CleanupBuild removes the binary BuildNode produced (call from TestMain).
func CleanupBuild() {
	if build.path != "" {
		_ = os.RemoveAll(filepath.Dir(build.path))
	}
}

// RepoRoot finds the module root (the directory holding go.mod) above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getwd: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// maxLog bounds the node output kept in memory (a debug-level node can log a lot); the newest
// half is kept when it overflows, since failures are explained by the end of the log.
const maxLog = 8 << 20

// lockedBuffer collects process output written from two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len()+len(p) > maxLog {
		tail := append([]byte("[... earlier node output dropped ...]\n"), l.b.Bytes()[l.b.Len()/2:]...)
		l.b.Reset()
		l.b.Write(tail)
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
