package cluster

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

// deliveries counts (receiver, origin, key, payload) deliveries.
type deliveries struct {
	mu   sync.Mutex
	seen map[string]int
}

func (d *deliveries) add(receiver, origin, key string, payload []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[fmt.Sprintf("%s<-%s/%s/%s", receiver, origin, key, payload)]++
}

func (d *deliveries) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.seen {
		n += c
	}
	return n
}

// TestBusRouting: five nodes in three regions on 127.0.0.1-5. Every node publishes on several
// topics; every other node delivers each message exactly once, and cross-region traffic goes
// through one relay per region.
func TestBusRouting(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "eu", "us", "us", "ap"}, Options{})
	d := &deliveries{seen: map[string]int{}}
	var buses []*Bus
	for _, m := range c.meshes {
		self := m.self.Name
		buses = append(buses, NewBus(m, TypeBroadcast, func(origin, key string, payload []byte) {
			d.add(self, origin, key, payload)
		}))
	}
	c.start(t)
	const perTopic = 20
	topics := []string{"realtime:a", "realtime:b", "realtime:c", "realtime:d"}
	for i, b := range buses {
		// eu and us nodes: one same-region peer plus a relay in each of the two other regions;
		// the lone ap node: the two relays.
		wantSends := 3
		if c.members[i].Region == "ap" {
			wantSends = 2
		}
		for _, topic := range topics {
			for k := 0; k < perTopic; k++ {
				if got := b.Publish(topic, []byte(fmt.Sprint(k))); got != wantSends {
					t.Fatalf("%s Publish enqueued %d sends, want %d", c.members[i].Name, got, wantSends)
				}
			}
		}
	}
	n := len(buses)
	want := n * (n - 1) * len(topics) * perTopic
	testutil.Eventually(t, 10*time.Second, "all deliveries", func() bool { return d.total() >= want })
	time.Sleep(100 * time.Millisecond) // duplicates, if any, would arrive now
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.seen) != want {
		t.Fatalf("%d distinct deliveries, want %d", len(d.seen), want)
	}
	for k, v := range d.seen {
		if v != 1 {
			t.Fatalf("%s delivered %d times", k, v)
		}
		if k[:5] == k[7:12] {
			t.Fatalf("%s delivered to its origin", k)
		}
	}
}

// TestBusSendTo delivers to one peer only, never relayed.
func TestBusSendTo(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "us", "us"}, Options{})
	d := &deliveries{seen: map[string]int{}}
	var buses []*Bus
	for _, m := range c.meshes {
		self := m.self.Name
		buses = append(buses, NewBus(m, TypeBroadcast, func(origin, key string, p []byte) { d.add(self, origin, key, p) }))
	}
	c.start(t)
	if !buses[0].SendTo("node3", "tenant:changes", []byte("row")) {
		t.Fatal("SendTo dropped")
	}
	testutil.Eventually(t, 5*time.Second, "direct delivery", func() bool { return d.total() == 1 })
	time.Sleep(100 * time.Millisecond)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen["node3<-node1/tenant:changes/row"] != 1 || len(d.seen) != 1 {
		t.Fatalf("deliveries %v", d.seen)
	}
}
