//go:build linux

package clusterrtt

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/internal/changesws"
	"github.com/realtimeops/realtime/internal/rowlog"
)

// BenchmarkCommitToClientByRegion commits one row at a time to the eu database (owned in eu)
// and times, per region, from the commit returning to the first arrival at a subscriber on a
// node of that region: eu (same region as the owner), us (+20 ms one way), ap (+40 ms). The
// subscribers themselves sit in the root namespace (no delay to any node), so each figure is the
// loopback pipeline plus the owner-to-node one-way delay. One iteration is one row.
func BenchmarkCommitToClientByRegion(b *testing.B) {
	w := newWorld(b)
	var owner string
	waitFor(b, 60*time.Second, "eutenant owned in eu", func() bool {
		owner = ownerOf(w.nodes, "eutenant")
		return strings.HasPrefix(owner, "eu-")
	})
	subs := map[string]*rowlog.Log{}
	for region, leaf := range map[string]string{"eu": "eu-a", "us": "us-a", "ap": "ap-a"} {
		l := subscribe(w.ctx, b, w.byName[leaf], "eutenant")
		waitFor(b, 30*time.Second, "Subscribed on "+leaf, func() bool { return l.Subscribed() > 0 })
		subs[region] = l
	}
	lat := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(i + 1)
		if _, err := w.pools["eutenant"].Exec(w.ctx, "insert into public.seq (id) values ($1)", id); err != nil {
			b.Fatalf("insert: %v", err)
		}
		committed := time.Now()
		waitFor(b, 20*time.Second, fmt.Sprintf("row %d everywhere", id), func() bool {
			for _, l := range subs {
				if !l.Has(id) {
					return false
				}
			}
			return true
		})
		for region, l := range subs {
			at, _ := l.At(id)
			lat[region] = append(lat[region], at.Sub(committed))
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat)
	b.Logf("owner %s, %d rows", owner, b.N)
}

// BenchmarkBroadcastByRegion sends a broadcast through a client of eu-a and times its arrival at
// a client of each other node: eu-b (same region, no delay), us-a (+20 ms one way), ap-a
// (+40 ms). The clients sit in the root namespace (no delay to any node), so each figure is the
// loopback relay plus the one-way delay between the two nodes: the cross-region figures of
// test/cluster's BenchmarkBroadcastLatency (loopback) with real latency. One iteration is one
// broadcast, sent when the previous one arrived everywhere.
func BenchmarkBroadcastByRegion(b *testing.B) {
	w := newWorld(b)
	topic := fmt.Sprintf("realtime:lat-%d", time.Now().UnixNano())
	pub := joinBroadcast(w.ctx, b, w.byName["eu-a"], "eutenant", topic, "")
	rx := map[string]*broadcastClient{}
	for _, leaf := range []string{"eu-b", "us-a", "ap-a"} {
		rx[leaf] = joinBroadcast(w.ctx, b, w.byName[leaf], "eutenant", topic, "")
	}
	lat := map[string][]time.Duration{}
	send := func(i int) {
		start := time.Now()
		pub.send(w.ctx, b, topic, i)
		for leaf, c := range rx {
			at := c.wait(b, c.got, i, 10*time.Second)
			if i >= 0 {
				lat[leaf] = append(lat[leaf], at.Sub(start))
			}
		}
	}
	for i := range 20 { // warm up: links, the receivers' subscriptions on every node
		send(-1 - i)
	}
	b.ResetTimer()
	for i := range b.N {
		send(i)
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkPresenceByRegion: a client of eu-a updates its presence (track, meta "i"), and the
// clients of eu-b, us-a and ap-a record when the presence_diff with that meta arrived. Presence
// travels as periodic deltas between nodes (presence-broadcast-period, 1.5 s by default), so each
// figure is the wait for eu-a's next delta (uniform over the period) plus the one-way delay. One
// iteration is one track (a new publishing client every 4 tracks: the default limit is 5
// presence events per 30 s).
func BenchmarkPresenceByRegion(b *testing.B) {
	w := newWorld(b)
	topic := fmt.Sprintf("realtime:presence-%d", time.Now().UnixNano())
	rx := map[string]*broadcastClient{}
	for _, leaf := range []string{"eu-b", "us-a", "ap-a"} {
		rx[leaf] = joinBroadcast(w.ctx, b, w.byName[leaf], "eutenant", topic, leaf)
	}
	lat := map[string][]time.Duration{}
	var pub *broadcastClient
	track := func(i int) {
		if (i+1)%4 == 0 { // a client may send 5 presence events per 30 s (tenant limits)
			pub = joinBroadcast(w.ctx, b, w.byName["eu-a"], "eutenant", topic, fmt.Sprintf("pub-%d", i))
		}
		// A random phase against the nodes' delta period: a track sent right after the last
		// arrival would always wait nearly a full period.
		time.Sleep(rand.N(1500 * time.Millisecond))
		start := time.Now()
		pub.track(w.ctx, b, topic, i)
		for leaf, c := range rx {
			at := c.wait(b, c.presence, i, 20*time.Second)
			if i >= 0 {
				lat[leaf] = append(lat[leaf], at.Sub(start))
			}
		}
	}
	track(-1) // warm up
	b.ResetTimer()
	for i := range b.N {
		track(i)
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

type broadcastClient struct {
	conn     *websocket.Conn
	mu       sync.Mutex
	got      map[int]time.Time // broadcasts by payload "i"
	presence map[int]time.Time // presence joins by meta "i"
}

// joinBroadcast joins topic for tenant through node n (presence only with a presenceKey) and
// records, per payload "i", when each broadcast and each presence join arrived.
func joinBroadcast(ctx context.Context, t testing.TB, n *node, tenant, topic, presenceKey string) *broadcastClient {
	conn, tok := dialNode(ctx, t, n, tenant)
	c := &broadcastClient{conn: conn, got: map[int]time.Time{}, presence: map[int]time.Time{}}
	joined := make(chan struct{})
	go func() { // owned: ends when the connection closes at cleanup
		var once sync.Once
		changesws.ReadEvents(ctx, conn, func(event string, payload json.RawMessage) {
			switch event {
			case "phx_reply":
				once.Do(func() { close(joined) })
			case "broadcast":
				var p struct {
					Payload struct{ I int } `json:"payload"`
				}
				if json.Unmarshal(payload, &p) == nil {
					c.mu.Lock()
					c.got[p.Payload.I] = time.Now()
					c.mu.Unlock()
				}
			case "presence_diff":
				var p struct {
					Joins map[string]struct {
						Metas []struct{ I int } `json:"metas"`
					} `json:"joins"`
				}
				if json.Unmarshal(payload, &p) == nil {
					c.mu.Lock()
					for _, j := range p.Joins {
						for _, m := range j.Metas {
							c.presence[m.I] = time.Now()
						}
					}
					c.mu.Unlock()
				}
			}
		})
	}()
	presence := map[string]any{"enabled": presenceKey != ""}
	if presenceKey != "" {
		presence["key"] = presenceKey
	}
	join := []any{"1", "1", topic, "phx_join", map[string]any{"access_token": tok, "config": map[string]any{
		"broadcast": map[string]any{"self": false}, "presence": presence, "private": false}}}
	msg, _ := json.Marshal(join)
	if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatalf("join on %s: %v", n.name, err)
	}
	select {
	case <-joined:
	case <-time.After(10 * time.Second):
		t.Fatalf("no join reply from %s", n.name)
	}
	go func() { // owned: ends when a write fails (the connection closed at cleanup)
		for range time.Tick(15 * time.Second) { // the server closes a socket without heartbeats
			hb, _ := json.Marshal([]any{nil, "hb", "phoenix", "heartbeat", map[string]any{}})
			if conn.Write(ctx, websocket.MessageText, hb) != nil {
				return
			}
		}
	}()
	return c
}

func (c *broadcastClient) send(ctx context.Context, t testing.TB, topic string, i int) {
	msg, _ := json.Marshal([]any{"1", fmt.Sprint(i), topic, "broadcast",
		map[string]any{"type": "broadcast", "event": "lat", "payload": map[string]any{"i": i}}})
	if err := c.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatalf("broadcast: %v", err)
	}
}

func (c *broadcastClient) track(ctx context.Context, t testing.TB, topic string, i int) {
	msg, _ := json.Marshal([]any{"1", fmt.Sprint(i), topic, "presence",
		map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"i": i}}})
	if err := c.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatalf("track: %v", err)
	}
}

// wait returns when item i arrived in m (c.got or c.presence).
func (c *broadcastClient) wait(t testing.TB, m map[int]time.Time, i int, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		at, ok := m[i]
		c.mu.Unlock()
		if ok {
			return at
		}
		time.Sleep(200 * time.Microsecond)
	}
	c.mu.Lock()
	n := len(m)
	c.mu.Unlock()
	t.Fatalf("item %d did not arrive in %s (%d items did)", i, timeout, n)
	return time.Time{}
}

// reportPercentiles reports p50 and p99 of each key's latencies as "<key>-p50-ms", "<key>-p99-ms".
func reportPercentiles(b *testing.B, lat map[string][]time.Duration) {
	for key, ds := range lat {
		slices.Sort(ds)
		p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.5), key+"-p50-ms")
		b.ReportMetric(p(0.99), key+"-p99-ms")
	}
}
