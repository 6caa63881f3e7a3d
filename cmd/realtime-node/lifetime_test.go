package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/nodeconfig"
	"github.com/realtimeops/realtime/node/presence"
)

const lifetimeSecret = "lifetime-test-secret-for-the-node-root-0123456789"

// testNode builds a real standalone node (newNode) over a tenants file with one tenant "dev".
func testNode(t *testing.T) *node {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	yaml := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: jwt}
stringData: {secret: %s}
---
apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: dev}
spec:
  jwt: {secretRef: {name: jwt, key: secret}}
`, lifetimeSecret)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := nodeconfig.Load([]string{"--tenants", path, "--default-tenant", "dev", "--drain-window", "50ms"},
		func(string) string { return "" }, presence.DefaultBroadcastPeriod)
	if err != nil {
		t.Fatal(err)
	}
	n, err := newNode(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// events is the order the node's phases happened in.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.log)
}

// TestNodeLifetimeOrder runs a real node (every runner newNode made, the real HTTP server with a
// connected WebSocket, the real pools) with probes around its phases: the runners' contexts are
// live for the whole of serving, drain included; the drain closes the socket with 1012; the
// runners are stopped only after the server returned; the pools are closed after every runner
// returned.
func TestNodeLifetimeOrder(t *testing.T) {
	n := testNode(t)
	var ev events
	probeCtx := make(chan context.Context, 1)
	n.runners = append(n.runners, func(ctx context.Context) error {
		probeCtx <- ctx
		<-ctx.Done()
		ev.add("runner returned")
		return nil
	})
	serve := n.serve
	n.serve = func(ctx context.Context, l net.Listener) error {
		ev.add("serving")
		err := serve(ctx, l)
		// The drain is over; the runners must not have been stopped yet.
		select {
		case rctx := <-probeCtx:
			if rctx.Err() != nil {
				ev.add("runners stopped before the server returned")
			}
		default:
			ev.add("runner not started while serving")
		}
		ev.add("server returned")
		return err
	}
	probeClosers(n, &ev)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.run(ctx, l) }()

	tok, err := auth.SignHS256([]byte(lifetimeSecret), map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	ws, _, err := websocket.Dial(dctx, "ws://"+l.Addr().String()+"/socket/websocket?vsn=1.0.0&apikey="+tok, nil)
	if err != nil {
		t.Fatalf("dial the node: %v", err)
	}
	defer func() { _ = ws.CloseNow() }()
	join := `{"topic":"realtime:room","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}`
	if err := ws.Write(dctx, websocket.MessageText, []byte(join)); err != nil {
		t.Fatal(err)
	}
	if _, reply, err := ws.Read(dctx); err != nil || !strings.Contains(string(reply), `"status":"ok"`) {
		t.Fatalf("join reply %s, %v", reply, err)
	}

	cancel() // SIGTERM
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = ws.Read(dctx)
	}
	if code := websocket.CloseStatus(closeErr); code != websocket.StatusServiceRestart {
		t.Errorf("socket closed with %v (%v), want 1012 from the drain", code, closeErr)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	want := []string{"serving", "server returned", "runner returned", "pools closed"}
	if got := ev.get(); !slices.Equal(got, want) {
		t.Errorf("phases = %q, want %q", got, want)
	}
}

// TestNodeRunnerFailureStopsNode: a runner that fails stops the server (its drain runs) and the
// other runners, and run returns the runner's error; the pools are still closed.
func TestNodeRunnerFailureStopsNode(t *testing.T) {
	n := testNode(t)
	var ev events
	boom := errors.New("boom")
	failNow := make(chan struct{})
	n.runners = append(n.runners, func(ctx context.Context) error {
		select {
		case <-failNow:
			return boom
		case <-ctx.Done():
			return nil
		}
	})
	serve := n.serve
	n.serve = func(ctx context.Context, l net.Listener) error {
		close(failNow)
		err := serve(ctx, l)
		ev.add("server returned")
		return err
	}
	probeClosers(n, &ev)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.run(context.Background(), l) }()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("run = %v, want the runner's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a failed runner did not stop the node")
	}
	if got, want := ev.get(), []string{"server returned", "pools closed"}; !slices.Equal(got, want) {
		t.Errorf("phases = %q, want %q", got, want)
	}
}

// probeClosers makes each of n's closers record "pools closed" in ev when it ran.
func probeClosers(n *node, ev *events) {
	closers := n.closers
	n.closers = nil
	for _, c := range closers {
		n.closers = append(n.closers, func() { c(); ev.add("pools closed") })
	}
}
