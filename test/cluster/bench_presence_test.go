package clustertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	presenceSockets  = 10
	presencePerSock  = 1000
	presenceTotal    = presenceSockets * presencePerSock
	presenceBatch    = 200 // pipelined pushes per round: keeps each socket's queue far below its bound
	presenceSyncWait = 60 * time.Second
)

// BenchmarkPresenceConvergence10k tracks 10,000 presences on node-1 (10 sockets x 1,000 channels,
// one presence per topic) and measures (once) how long node-2 needs to hold all of them through
// deltas after the last track was acknowledged, then (per iteration) how long a freshly started
// node needs, from process launch, to hold all of them through the full-state sync it gets at
// link up.
func BenchmarkPresenceConvergence10k(b *testing.B) {
	tenants := benchTenants(b)
	c := startStaticCluster(b, tenants, []nodeDef{{"n1", "node-1", "eu", "127.0.0.1"}, {"n2", "node-2", "eu", "127.0.0.2"}}, "warn")
	// node-0 sorts first, so it dials the others as soon as it starts (no redial backoff).
	newcomer := NewNode(b, nodeBin, NodeSpec{
		Name: "node-0", Region: "eu", IP: "127.0.0.3", Discovery: "static", Secret: ClusterSecret,
		TenantsFile: tenants, DefaultTenant: DefaultTenant, LogLevel: "warn", PresencePeriod: presencePeriod, DownPeriod: downPeriod,
		Peers: []Peer{{"node-1", "eu", c.Nodes["n1"].ClusterAddr}, {"node-2", "eu", c.Nodes["n2"].ClusterAddr}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	socks := trackMany(ctx, b, c.Nodes["n1"])
	rate := float64(presenceTotal) / time.Since(began).Seconds()
	defer func() {
		for _, s := range socks {
			s.Close()
		}
	}()
	tracked := time.Now()
	if err := waitEntries(c.Nodes["n2"], "node-1", presenceTotal); err != nil {
		b.Fatal(err)
	}
	deltaSync := float64(time.Since(tracked).Microseconds()) / 1000

	var total time.Duration
	b.ResetTimer()
	for range b.N {
		// Measured from process launch: /readyz may answer after the sync is already done.
		start := time.Now()
		if err := newcomer.Start(); err != nil {
			b.Fatal(err)
		}
		if err := waitEntries(newcomer, "node-1", presenceTotal); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		newcomer.Stop()
		b.StartTimer()
	}
	// Reported last: ResetTimer drops metrics reported before it.
	b.ReportMetric(rate, "joins+tracks/s")
	b.ReportMetric(deltaSync, "delta-sync-ms")
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "full-sync-ms")
	b.ReportMetric(0, "ns/op")
}

// trackMany joins presenceTotal channels with presence on n and tracks one presence in each.
func trackMany(ctx context.Context, b *testing.B, n *Node) []*WSClient {
	tok := benchToken()
	socks := make([]*WSClient, presenceSockets)
	errs := make(chan error, presenceSockets)
	var wg sync.WaitGroup
	for i := range socks {
		s, err := DialV2(ctx, n, tok)
		if err != nil {
			b.Fatal(err)
		}
		socks[i] = s
		wg.Add(1)
		go func() { defer wg.Done(); errs <- trackOnSocket(ctx, s, i) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return socks
}

func trackOnSocket(ctx context.Context, s *WSClient, sock int) error {
	joinRefs := make([]string, presencePerSock)
	for lo := 0; lo < presencePerSock; lo += presenceBatch {
		for i := lo; i < lo+presenceBatch; i++ {
			cfg := map[string]any{"config": map[string]any{
				"broadcast": map[string]any{"self": false}, "private": false,
				"presence": map[string]any{"enabled": true, "key": fmt.Sprintf("user-%d-%d", sock, i)},
			}}
			ref, err := s.Push(ctx, "", topicOf(sock, i), "phx_join", cfg)
			if err != nil {
				return err
			}
			joinRefs[i] = ref
		}
		if err := s.AwaitOK(ctx, presenceBatch); err != nil {
			return err
		}
	}
	for lo := 0; lo < presencePerSock; lo += presenceBatch {
		for i := lo; i < lo+presenceBatch; i++ {
			track := map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"sock": sock, "i": i}}
			if _, err := s.Push(ctx, joinRefs[i], topicOf(sock, i), "presence", track); err != nil {
				return err
			}
		}
		if err := s.AwaitOK(ctx, presenceBatch); err != nil {
			return err
		}
	}
	return nil
}

func topicOf(sock, i int) string { return fmt.Sprintf("realtime:presence-%d-%d", sock, i) }

// waitEntries polls n's /status until its replica of node holds want entries.
func waitEntries(n *Node, node string, want int) error {
	return Poll(presenceSyncWait, 20*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := n.FetchStatus(ctx)
		if err != nil {
			return err
		}
		for _, r := range s.PresenceReplicas {
			if strings.HasPrefix(r.Replica, node+"@") && !r.Down {
				if r.Entries >= want {
					return nil
				}
				return fmt.Errorf("%s holds %d of %d entries of %s", n.Spec.Name, r.Entries, want, node)
			}
		}
		return fmt.Errorf("%s has no replica of %s yet", n.Spec.Name, node)
	})
}
