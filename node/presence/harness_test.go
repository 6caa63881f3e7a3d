package presence

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"testing"
)

// This file is a multi-replica harness in the spirit of Phoenix.Tracker's
// tests: trackers wired by an in-memory network that carries real encoded
// deltas, can reorder, duplicate and drop them, and can be partitioned. Every
// node also runs a clientView fed only by its diffs, to prove that the diff
// stream reproduces List (what realtime-js relies on).

type msgKind int

const (
	msgDelta   msgKind = iota // periodic delta or heartbeat
	msgRequest                // "send me your full state"
	msgState                  // full state transfer
)

type message struct {
	from, to int
	kind     msgKind
	payload  []byte
}

type hnode struct {
	tr   *CRDTTracker
	view *clientView
}

type cluster struct {
	t        *testing.T
	rng      *rand.Rand
	nodes    []*hnode
	inflight []message
	group    []int // partition group per node; messages cross groups never
	epoch    int64
	dead     []ReplicaID // replicas of restarted nodes
	requests int         // full-state requests seen, for assertions
}

func newCluster(t *testing.T, n int, seed int64) *cluster {
	t.Helper()
	c := &cluster{t: t, rng: rand.New(rand.NewSource(seed)), group: make([]int, n)}
	for i := range n {
		c.nodes = append(c.nodes, c.newNode(fmt.Sprintf("node%c", 'a'+i)))
	}
	return c
}

func (c *cluster) newNode(name string) *hnode {
	c.epoch++
	v := newClientView(c.t)
	return &hnode{tr: newTestTracker(ReplicaID{Node: name, Epoch: c.epoch}, v.apply), view: v}
}

func (c *cluster) id(i int) ReplicaID { return c.nodes[i].tr.Replica() }

func (c *cluster) send(from, to int, kind msgKind, d Delta) {
	if c.group[from] != c.group[to] {
		return
	}
	b, err := d.MarshalBinary()
	if err != nil {
		c.t.Fatalf("marshal delta: %v", err)
	}
	c.inflight = append(c.inflight, message{from: from, to: to, kind: kind, payload: b})
}

// broadcast sends node i's delta (or heartbeat) to every other node.
func (c *cluster) broadcast(i int) {
	d, _ := c.nodes[i].tr.ExtractDelta()
	for j := range c.nodes {
		if j != i {
			c.send(i, j, msgDelta, d)
		}
	}
}

func (c *cluster) deliver(m message) {
	if c.group[m.from] != c.group[m.to] {
		return // the link broke while the message was in flight
	}
	to := c.nodes[m.to].tr
	if m.kind == msgRequest {
		c.send(m.to, m.from, msgState, to.FullState())
		return
	}
	d, err := UnmarshalDelta(m.payload)
	if err != nil {
		c.t.Fatalf("unmarshal delta: %v", err)
	}
	if m.kind == msgState {
		to.MergeState(c.id(m.from), d)
		return
	}
	if to.MergeDelta(c.id(m.from), d) {
		c.requests++
		c.inflight = append(c.inflight, message{from: m.to, to: m.from, kind: msgRequest})
	}
}

// deliverRandom delivers one in-flight message chosen at random; with
// probability dup it stays queued so that it is delivered again later.
func (c *cluster) deliverRandom(dup float64) bool {
	if len(c.inflight) == 0 {
		return false
	}
	k := c.rng.Intn(len(c.inflight))
	m := c.inflight[k]
	if c.rng.Float64() >= dup {
		c.inflight = slices.Delete(c.inflight, k, k+1)
	}
	c.deliver(m)
	return true
}

func (c *cluster) drainRandom(dup float64) {
	for steps := 0; c.deliverRandom(dup); steps++ {
		if steps > 1_000_000 {
			c.t.Fatal("network never drained")
		}
	}
}

func (c *cluster) partition(groups ...int) { copy(c.group, groups) }
func (c *cluster) heal()                   { clear(c.group) }

// settle runs broadcast rounds with random delivery until a round needs no
// state transfer: heartbeats expose every gap, transfers fill it.
func (c *cluster) settle() {
	for round := 0; round < 20; round++ {
		before := c.requests
		for i := range c.nodes {
			c.broadcast(i)
		}
		c.drainRandom(0)
		if c.requests == before && round > 0 {
			return
		}
	}
	c.t.Fatal("cluster did not settle in 20 rounds")
}

// snapshot renders every visible topic of node i as JSON.
func (c *cluster) snapshot(i int) map[string]string {
	tr := c.nodes[i].tr
	out := map[string]string{}
	for _, topic := range tr.Topics() {
		out[topic] = mustJSON(c.t, tr.List(topic))
	}
	return out
}

// assertConverged checks that all nodes render the same presence and that
// each node's diff stream adds up to its List.
func (c *cluster) assertConverged() {
	c.t.Helper()
	want := c.snapshot(0)
	for i := range c.nodes {
		if got := c.snapshot(i); !maps.Equal(got, want) {
			c.t.Fatalf("node %d diverged from node 0:\n replicas %v\n node 0 %v", i,
				c.nodes[i].tr.Replicas(), c.nodes[0].tr.Replicas())
		}
		c.nodes[i].view.assertMatches(c.nodes[i].tr)
	}
}

// clientView mimics a subscriber: it only sees diffs. It insists that leaves
// remove something present and joins add something absent (Errorf, not
// Fatalf: diffs may be delivered on a non-test goroutine).
type clientView struct {
	t      *testing.T
	topics map[string]map[string]string // topic -> ref -> key + meta JSON
	diffs  []Diff
}

func newClientView(t *testing.T) *clientView {
	return &clientView{t: t, topics: map[string]map[string]string{}}
}

func (v *clientView) apply(d Diff) {
	v.diffs = append(v.diffs, d)
	refs := v.topics[d.Topic]
	if refs == nil {
		refs = map[string]string{}
		v.topics[d.Topic] = refs
	}
	for key, metas := range d.Leaves {
		for _, m := range metas {
			if _, ok := refs[m.Ref]; !ok {
				v.t.Errorf("leave of unknown ref %s key %s on %s", m.Ref, key, d.Topic)
			}
			delete(refs, m.Ref)
		}
	}
	for key, metas := range d.Joins {
		for _, m := range metas {
			if _, ok := refs[m.Ref]; ok {
				v.t.Errorf("duplicate join of ref %s key %s on %s", m.Ref, key, d.Topic)
			}
			refs[m.Ref] = key + " " + mustJSON(v.t, m)
		}
	}
	if len(refs) == 0 {
		delete(v.topics, d.Topic)
	}
}

func (v *clientView) assertMatches(tr *CRDTTracker) {
	v.t.Helper()
	want := map[string]map[string]string{}
	for _, topic := range tr.Topics() {
		refs := map[string]string{}
		for key, metas := range tr.List(topic) {
			for _, m := range metas {
				refs[m.Ref] = key + " " + mustJSON(v.t, m)
			}
		}
		want[topic] = refs
	}
	if !maps.EqualFunc(v.topics, want, maps.Equal) {
		v.t.Fatalf("diff stream of %v disagrees with List:\n view %v\n list %v", tr.Replica(), v.topics, want)
	}
}

// newTestTracker returns a tracker with a deterministic ref clock.
func newTestTracker(id ReplicaID, onDiff func(Diff)) *CRDTTracker {
	tr := NewLocal(id, onDiff)
	var ns int64 = 1_700_000_000_000_000_000
	tr.now = func() int64 { ns += 1000; return ns }
	return tr
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return string(b)
}
