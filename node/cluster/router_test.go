package cluster

import (
	"fmt"
	"testing"
)

// assignments enumerates every way to put n nodes in r regions with no region empty.
func assignments(n, r int) [][]int {
	var out [][]int
	cur := make([]int, n)
	var rec func(i int)
	rec = func(i int) {
		if i == n {
			seen := make([]bool, r)
			for _, g := range cur {
				seen[g] = true
			}
			for _, s := range seen {
				if !s {
					return
				}
			}
			out = append(out, append([]int(nil), cur...))
			return
		}
		for g := 0; g < r; g++ {
			cur[i] = g
			rec(i + 1)
		}
	}
	rec(0)
	return out
}

// simulate publishes key from origin and follows every hop with each node's own Router; it
// returns how often each node delivered locally and how many link messages were sent.
func simulate(members []Member, origin int, key string) (deliveries []int, messages, cross, maxHops int) {
	byName := map[string]int{}
	for i, m := range members {
		byName[m.Name] = i
	}
	deliveries = make([]int, len(members))
	type inflight struct {
		node, hops int
		hop        Hop
	}
	queue := []inflight{{origin, 0, HopOrigin}}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		deliveries[cur.node]++
		maxHops = max(maxHops, cur.hops)
		self := members[cur.node]
		for _, t := range NewRouter(self, members).Targets(members[origin], cur.hop, key) {
			next := byName[t.Peer]
			messages++
			if members[next].Region != self.Region {
				cross++
			}
			queue = append(queue, inflight{next, cur.hops + 1, t.Hop})
		}
	}
	return
}

func TestRoutingExactlyOnce(t *testing.T) {
	regionNames := []string{"eu", "us", "ap"}
	for n := 1; n <= 5; n++ {
		for r := 1; r <= 3 && r <= n; r++ {
			for _, assign := range assignments(n, r) {
				members := make([]Member, n)
				sizes := make([]int, r)
				for i, g := range assign {
					members[i] = Member{Name: fmt.Sprintf("node%d", i), Region: regionNames[g]}
					sizes[g]++
				}
				for origin := range members {
					for _, key := range []string{"realtime:a", "realtime:b", "room-42"} {
						name := fmt.Sprintf("n%d/r%d/%v/origin%d/%s", n, r, assign, origin, key)
						deliveries, msgs, cross, hops := simulate(members, origin, key)
						for i, d := range deliveries {
							if d != 1 {
								t.Fatalf("%s: node%d delivered %d times", name, i, d)
							}
						}
						want := BroadcastCost(sizes, assign[origin], 100)
						if msgs != want.Messages || cross != want.CrossRegion || hops != want.MaxHops {
							t.Fatalf("%s: simulated msgs=%d cross=%d hops=%d, cost says %+v", name, msgs, cross, hops, want)
						}
					}
				}
			}
		}
	}
}

func TestBroadcastCost(t *testing.T) {
	cases := []struct {
		name   string
		sizes  []int
		origin int
		want   Cost
	}{
		{"alone", []int{1}, 0, Cost{}},
		{"one region of 3", []int{3}, 0, Cost{Messages: 2, Bytes: 200, MaxHops: 1}},
		{"2+2", []int{2, 2}, 0, Cost{Messages: 3, CrossRegion: 1, Bytes: 300, CrossRegionBytes: 100, MaxHops: 2}},
		{"1+1+1", []int{1, 1, 1}, 1, Cost{Messages: 2, CrossRegion: 2, Bytes: 200, CrossRegionBytes: 200, MaxHops: 1}},
		{"3+3+3 (N=9,R=3)", []int{3, 3, 3}, 2, Cost{Messages: 8, CrossRegion: 2, Bytes: 800, CrossRegionBytes: 200, MaxHops: 2}},
		{"empty region ignored", []int{2, 0, 1}, 0, Cost{Messages: 2, CrossRegion: 1, Bytes: 200, CrossRegionBytes: 100, MaxHops: 1}},
	}
	for _, tc := range cases {
		if got := BroadcastCost(tc.sizes, tc.origin, 100); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// A 100-byte payload on topic "realtime:room1" from "node-a": 5 header + 1 hop + 1+6 origin
	// + 1+14 key + 100.
	if got := FrameBytes("node-a", "realtime:room1", 100); got != 128 {
		t.Errorf("FrameBytes = %d, want 128", got)
	}
}

func TestRelaySpreadsAndIsStable(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	count := map[string]int{}
	for i := 0; i < 4000; i++ {
		key := fmt.Sprintf("realtime:topic-%d", i)
		r := Relay(key, names)
		if r != Relay(key, []string{"d", "c", "b", "a"}) {
			t.Fatal("relay depends on list order")
		}
		count[r]++
	}
	for _, n := range names {
		if count[n] < 800 || count[n] > 1200 {
			t.Errorf("relay share of %s = %d of 4000, want about 1000", n, count[n])
		}
	}
	// Removing a node only moves the keys it relayed.
	moved := 0
	for i := 0; i < 4000; i++ {
		key := fmt.Sprintf("realtime:topic-%d", i)
		before, after := Relay(key, names), Relay(key, names[:3])
		if before != after && before != "d" {
			moved++
		}
	}
	if moved != 0 {
		t.Errorf("%d keys moved between surviving nodes", moved)
	}
}

func BenchmarkTargetsOrigin(b *testing.B) {
	self := Member{Name: "eu-1", Region: "eu"}
	var peers []Member
	for _, r := range []string{"eu", "us", "ap"} {
		for i := range 4 {
			peers = append(peers, Member{Name: fmt.Sprintf("%s-%d", r, i+2), Region: r})
		}
	}
	r := NewRouter(self, peers)
	b.ReportAllocs()
	for b.Loop() {
		r.Targets(self, HopOrigin, "tenant:room")
	}
}
