package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/test/conformance"
)

// benchNodes: two regions of two nodes, so a cross-region broadcast reaches the relay in one hop
// and the relay's region-mate in two.
var benchNodes = []nodeDef{
	{"n1", "node-1", "eu", "127.0.0.1"},
	{"n2", "node-2", "eu", "127.0.0.2"},
	{"n3", "node-3", "us", "127.0.0.3"},
	{"n4", "node-4", "us", "127.0.0.4"},
}

// benchTenants lifts every limit the benchmarks could hit.
func benchTenants(b *testing.B) string {
	limits := map[string]int{}
	for k, v := range Generous {
		limits[k] = v * 100
	}
	path, err := conformance.WriteTenants(b.TempDir(), []conformance.Tenant{{ExternalID: DefaultTenant, JWTSecret: JWTSecret, Limits: limits}})
	if err != nil {
		b.Fatal(err)
	}
	return path
}

func benchToken() string {
	return conformance.MustSign([]byte(JWTSecret), conformance.Claims(time.Hour))
}

// relayedTopic returns a sub-topic whose us relay (docs/protocol.md#routing, rendezvous on the tenant topic) is
// node-3, so node-4 is two hops from an eu publisher.
func relayedTopic() string {
	for i := 0; ; i++ {
		sub := "bench-" + strconv.Itoa(i)
		if cluster.Relay(pubsub.Topic(DefaultTenant, sub, false), []string{"node-3", "node-4"}) == "node-3" {
			return sub
		}
	}
}

// BenchmarkBroadcastLatency measures publish-to-receive latency of one broadcast between raw V2
// clients, one message in flight at a time: on a standalone node, on one node of a cluster, to
// another node of the region, to the other region's relay, and two hops away.
func BenchmarkBroadcastLatency(b *testing.B) {
	tenants := benchTenants(b)
	alone := StartNode(b, nodeBin, NodeSpec{Name: "alone", Region: "eu", IP: "127.0.0.5", TenantsFile: tenants, DefaultTenant: DefaultTenant, LogLevel: "warn"})
	c := startStaticCluster(b, tenants, benchNodes, "warn")
	sub := relayedTopic()
	cases := []struct {
		name     string
		from, to *Node
	}{
		{"standalone", alone, alone},
		{"cluster-same-node", c.Nodes["n1"], c.Nodes["n1"]},
		{"same-region", c.Nodes["n1"], c.Nodes["n2"]},
		{"cross-region-relay", c.Nodes["n1"], c.Nodes["n3"]},
		{"cross-region-2-hops", c.Nodes["n1"], c.Nodes["n4"]},
	}
	for _, cs := range cases {
		b.Run(cs.name, func(b *testing.B) { benchLatency(b, cs.from, cs.to, sub) })
	}
}

func benchLatency(b *testing.B, from, to *Node, sub string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tok := benchToken()
	pub, rx := mustJoin(ctx, b, from, tok, sub), mustJoin(ctx, b, to, tok, sub)
	defer pub.Close()
	defer rx.Close()
	roundTrip := func(i int) time.Duration {
		start := time.Now()
		if err := pub.Send(ctx, "lat", json.RawMessage(`{"i":`+strconv.Itoa(i)+`}`)); err != nil {
			b.Fatal(err)
		}
		for {
			m, err := rx.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			var p struct{ I int }
			if json.Unmarshal(m.Payload, &p) == nil && p.I == i {
				return time.Since(start)
			}
		}
	}
	for i := range 50 { // warm up: links, encoders, the receiver's channel
		roundTrip(-1 - i)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		lat = append(lat, roundTrip(i))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func mustJoin(ctx context.Context, b *testing.B, n *Node, tok, sub string) *WSClient {
	c, err := DialV2(ctx, n, tok)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Join(ctx, sub, false); err != nil {
		b.Fatal(err)
	}
	return c
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op") // the round trip is what ns/op would say; percentiles say it better
}

// BenchmarkFanout measures delivered messages per second when one publisher streams broadcasts
// to 60 subscribers, all on a standalone node versus 20 on each of three clustered nodes (the
// publisher's node, one in its region, one in the other region). All processes share this
// machine's cores, so it shows the cluster's overhead rather than a scale-out gain.
func BenchmarkFanout(b *testing.B) {
	tenants := benchTenants(b)
	alone := StartNode(b, nodeBin, NodeSpec{Name: "alone", Region: "eu", IP: "127.0.0.5", TenantsFile: tenants, DefaultTenant: DefaultTenant, LogLevel: "warn"})
	c := startStaticCluster(b, tenants, benchNodes[:3], "warn")
	b.Run("1-node-60-subs", func(b *testing.B) { benchFanout(b, alone, []*Node{alone}, 60) })
	b.Run("3-nodes-60-subs", func(b *testing.B) {
		benchFanout(b, c.Nodes["n1"], []*Node{c.Nodes["n1"], c.Nodes["n2"], c.Nodes["n3"]}, 20)
	})
}

func benchFanout(b *testing.B, from *Node, on []*Node, perNode int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tok, sub := benchToken(), fmt.Sprintf("fanout-%d", time.Now().UnixNano())
	pub := mustJoin(ctx, b, from, tok, sub)
	defer pub.Close()
	var subs []*WSClient
	for _, n := range on {
		for range perNode {
			s := mustJoin(ctx, b, n, tok, sub)
			defer s.Close()
			subs = append(subs, s)
		}
	}
	time.Sleep(200 * time.Millisecond) // joins are local; let nothing else be in flight
	var wg sync.WaitGroup
	errs := make(chan error, len(subs))
	b.ResetTimer()
	for _, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for got := 0; got < b.N; got++ {
				if _, err := s.Next(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range b.N {
		if err := pub.Send(ctx, "fan", json.RawMessage(`{"i":`+strconv.Itoa(i)+`}`)); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*len(subs))/b.Elapsed().Seconds(), "deliveries/s")
}
