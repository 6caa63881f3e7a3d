package rtt

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/cluster"
)

// TestShareOverMesh: two real meshes on loopback; each node's published figures reach the other.
func TestShareOverMesh(t *testing.T) {
	var lns []net.Listener
	var members []cluster.Member
	for _, name := range []string{"a", "b"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, l)
		members = append(members, cluster.Member{Name: name, Region: "r", Addr: l.Addr().String(), Epoch: time.Now().UnixNano()})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var shares []*Share
	var meshes []*cluster.Mesh
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for i, m := range members {
		mesh := cluster.NewMesh(m, []byte("rtt-share-test-secret-0123456789"), cluster.NewStaticDiscovery(members...),
			cluster.Options{Listener: lns[i]}, log, nil)
		shares = append(shares, NewShare(mesh, time.Minute))
		meshes = append(meshes, mesh)
		wg.Add(1)
		go func() { defer wg.Done(); _ = mesh.Run(ctx) }()
	}
	waitUntil(t, "full mesh", func() bool { return len(meshes[0].Peers()) == 1 && len(meshes[1].Peers()) == 1 })
	shares[0].Publish(map[string]Figure{"db:5432": {Ms: 12.5, Settled: 12.5, Samples: 5}})
	shares[1].Publish(map[string]Figure{"db:5432": {Ms: 0.4, Settled: 0.4, Samples: 5}})
	waitUntil(t, "figures exchanged", func() bool {
		return shares[0].RTT("b", "db:5432") == 0.4 && shares[1].RTT("a", "db:5432") == 12.5
	})
	if got := shares[0].RTT("a", "db:5432"); got != 12.5 {
		t.Fatalf("own figure = %v", got)
	}
	if got := shares[0].RTT("b", "other:5432"); got != 0 {
		t.Fatalf("unknown endpoint = %v, want 0", got)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
