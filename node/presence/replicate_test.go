package presence

import (
	"encoding/json"
	"fmt"
	"maps"
	"testing"
)

func mustTrack(t *testing.T, tr *CRDTTracker, topic, key string, owner Owner, meta string) {
	t.Helper()
	if err := tr.Track(topic, key, owner, json.RawMessage(meta)); err != nil {
		t.Fatalf("Track: %v", err)
	}
}

func extract(t *testing.T, tr *CRDTTracker) Delta {
	t.Helper()
	d, ok := tr.ExtractDelta()
	if !ok {
		t.Fatal("ExtractDelta: no changes")
	}
	return d
}

func listJSON(t *testing.T, tr *CRDTTracker, topic string) string {
	return mustJSON(t, tr.List(topic))
}

// "replicates joins and leaves": three replicas, random delivery order with
// duplicates, converge to the same List and consistent diff streams.
func TestReplicasConvergeRandomOrder(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := newCluster(t, 3, seed)
			for round := range 5 {
				for i, n := range c.nodes {
					for o := range 4 {
						owner := Owner(o + 1)
						switch c.rng.Intn(3) {
						case 0:
							mustTrack(t, n.tr, fmt.Sprint("t:", o%2), fmt.Sprint("k", i), owner, fmt.Sprintf(`{"r":%d}`, round))
						case 1:
							n.tr.Untrack(fmt.Sprint("t:", o%2), owner)
						}
					}
					c.broadcast(i)
				}
				for range 7 {
					c.deliverRandom(0.3)
				}
			}
			c.drainRandom(0.3)
			c.settle()
			c.assertConverged()
		})
	}
}

func TestDuplicateAndOutOfOrderDeltasAreIdempotent(t *testing.T) {
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	mustTrack(t, a, "t", "ana", 1, `{"n":1}`)
	d1 := extract(t, a)
	mustTrack(t, a, "t", "bo", 2, `{"n":2}`)
	mustTrack(t, a, "t", "ana", 1, `{"n":3}`) // update of an entry peers saw
	d2 := extract(t, a)
	a.Untrack("t", 2)
	d3 := extract(t, a)
	want := listJSON(t, a, "t")

	var diffs int
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, func(Diff) { diffs++ })
	for i, d := range []Delta{d1, d2, d1, d3, d2, d3, d1} {
		if b.MergeDelta(a.Replica(), d) {
			t.Fatalf("delivery %d: unexpected gap", i)
		}
	}
	if got := listJSON(t, b, "t"); got != want {
		t.Errorf("List = %s, want %s", got, want)
	}
	if diffs != 3 {
		t.Errorf("got %d diffs, want 3 (one per new delta)", diffs)
	}

	// Out of order: d3 before d2 is a gap (nothing applied); d2 then d3 heals.
	c := newTestTracker(ReplicaID{Node: "c", Epoch: 1}, nil)
	steps := []struct {
		d    Delta
		gap  bool
		list string
	}{
		{d1, false, ""},
		{d3, true, ""},
		{d2, false, ""},
		{d3, false, want},
		{d1, false, want},
	}
	for i, s := range steps {
		if gap := c.MergeDelta(a.Replica(), s.d); gap != s.gap {
			t.Errorf("step %d: gap = %v, want %v", i, gap, s.gap)
		}
		if s.list != "" {
			if got := listJSON(t, c, "t"); got != s.list {
				t.Errorf("step %d: List = %s, want %s", i, got, s.list)
			}
		}
	}
}

func TestGapTriggersFullState(t *testing.T) {
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, nil)
	mustTrack(t, a, "t", "ana", 1, `{}`)
	mustTrack(t, a, "t", "bo", 2, `{}`)
	extract(t, a) // lost on the way to b
	a.Untrack("t", 1)
	d2 := extract(t, a)
	if !b.MergeDelta(a.Replica(), d2) {
		t.Fatal("MergeDelta after a lost delta: want needFullState")
	}
	if got := listJSON(t, b, "t"); got != `{}` {
		t.Fatalf("gap delta was applied: %s", got)
	}
	hb, changed := a.ExtractDelta()
	if changed || b.MergeDelta(a.Replica(), hb) != true {
		t.Fatal("a heartbeat must also reveal the gap")
	}
	b.MergeState(a.Replica(), a.FullState())
	if got, want := listJSON(t, b, "t"), listJSON(t, a, "t"); got != want {
		t.Fatalf("after transfer List = %s, want %s", got, want)
	}
	if b.MergeDelta(a.Replica(), hb) {
		t.Fatal("heartbeat after transfer: no gap expected")
	}
}

// "basic netsplit": A and B keep talking, C is cut off; all keep changing;
// after the heal everyone converges, including removals made during the split.
func TestPartitionHeals(t *testing.T) {
	c := newCluster(t, 3, 7)
	for i, n := range c.nodes {
		mustTrack(t, n.tr, "t:room", fmt.Sprint("user", i), 1, `{"phase":"before"}`)
		mustTrack(t, n.tr, "t:room", fmt.Sprint("user", i), 2, `{"phase":"before"}`)
	}
	c.settle()
	c.assertConverged()

	c.partition(0, 0, 1)
	for i, n := range c.nodes {
		n.tr.Untrack("t:room", 2)
		mustTrack(t, n.tr, "t:room", fmt.Sprint("user", i), 1, `{"phase":"split"}`)
		mustTrack(t, n.tr, "t:other", fmt.Sprint("user", i), 3, `{}`)
	}
	c.settle()
	ab, cc := c.snapshot(0), c.snapshot(2)
	if !maps.Equal(ab, c.snapshot(1)) {
		t.Fatalf("A and B diverged during the split")
	}
	if maps.Equal(ab, cc) {
		t.Fatalf("C saw changes across the partition")
	}

	c.heal()
	c.settle()
	c.assertConverged()
	st := c.nodes[2].tr.List("t:room")
	if len(st) != 3 || len(st["user0"]) != 1 {
		t.Fatalf("after heal want one meta per user, got %s", mustJSON(t, st))
	}
}

func TestRemoteUpdateIsJoinPlusLeaveInOneDiff(t *testing.T) {
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	var got []Diff
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, func(d Diff) { got = append(got, d) })
	mustTrack(t, a, "t", "ana", 1, `{"s":"on"}`)
	b.MergeDelta(a.Replica(), extract(t, a))
	mustTrack(t, a, "t", "ana", 1, `{"s":"away"}`)
	b.MergeDelta(a.Replica(), extract(t, a))
	if len(got) != 2 {
		t.Fatalf("got %d diffs, want 2", len(got))
	}
	l := &labeler{labels: map[string]string{}}
	for _, d := range got {
		for _, ms := range d.Joins {
			l.label("", ms...)
		}
	}
	b1, _ := MarshalDiff(got[1])
	want := `{"joins":{"ana":{"metas":[{"phx_ref":"R2","phx_ref_prev":"R1","s":"away"}]}},"leaves":{"ana":{"metas":[{"phx_ref":"R1","s":"on"}]}}}`
	if js := l.label(string(b1)); js != want {
		t.Errorf("update diff:\n got %s\nwant %s", js, want)
	}
}

// "detects nodedown and locally broadcasts leaves" / "sends presence_diff
// when node comes back up".
func TestReplicaDownAndUp(t *testing.T) {
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	view := newClientView(t)
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, view.apply)
	mustTrack(t, a, "t:1", "ana", 1, `{}`)
	mustTrack(t, a, "t:2", "bo", 2, `{}`)
	mustTrack(t, b, "t:1", "local", 1, `{}`)
	b.MergeDelta(a.Replica(), extract(t, a))

	before := len(view.diffs)
	b.ReplicaDown(a.Replica())
	if got := view.diffs[before:]; len(got) != 2 || len(got[0].Leaves["ana"]) != 1 || len(got[1].Leaves["bo"]) != 1 {
		t.Fatalf("ReplicaDown diffs = %+v, want leaves of ana on t:1 and bo on t:2", got)
	}
	if st := b.List("t:1"); len(st) != 1 || st["local"] == nil {
		t.Fatalf("after down List(t:1) = %s, want only the local presence", mustJSON(t, st))
	}
	b.ReplicaDown(a.Replica()) // repeated: nothing more
	if len(view.diffs) != before+2 {
		t.Fatal("second ReplicaDown emitted diffs")
	}

	// While down, a's changes are merged silently.
	a.Untrack("t:2", 2)
	mustTrack(t, a, "t:1", "cy", 3, `{}`)
	if b.MergeDelta(a.Replica(), extract(t, a)) || len(view.diffs) != before+2 {
		t.Fatal("merge from a down replica must be silent and gap-free")
	}

	b.ReplicaUp(a.Replica())
	got := view.diffs[before+2:]
	if len(got) != 1 || got[0].Topic != "t:1" || len(got[0].Joins) != 2 || len(got[0].Leaves) != 0 {
		t.Fatalf("ReplicaUp diffs = %+v, want joins of ana and cy on t:1", got)
	}
	view.assertMatches(b)
	b.ReplicaUp(a.Replica())
	if len(view.diffs) != before+3 {
		t.Fatal("second ReplicaUp emitted diffs")
	}
}

// "detects permdown": entries go, and stale state about the replica relayed
// by a third party cannot bring them back.
func TestReplicaPermDown(t *testing.T) {
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	view := newClientView(t)
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, view.apply)
	c := newTestTracker(ReplicaID{Node: "c", Epoch: 1}, nil)
	mustTrack(t, a, "t", "ana", 1, `{}`)
	d := extract(t, a)
	b.MergeDelta(a.Replica(), d)
	c.MergeDelta(a.Replica(), d)

	b.ReplicaPermDown(a.Replica())
	if n := len(view.diffs); n != 2 || len(view.diffs[1].Leaves["ana"]) != 1 {
		t.Fatalf("PermDown diffs = %+v, want a leave of ana", view.diffs)
	}
	b.MergeState(c.Replica(), c.FullState())
	b.MergeDelta(a.Replica(), d)
	if got := listJSON(t, b, "t"); got != `{}` {
		t.Fatalf("forgotten replica came back: %s", got)
	}
	for _, r := range b.Replicas() {
		if r.ID == a.Replica() {
			t.Fatalf("Replicas still lists %v", r.ID)
		}
	}
	view.assertMatches(b)
}

// A restarted node is a new replica: its old entries linger on peers until
// they are marked down, and its new entries are independent of them.
func TestRestartIsNewReplica(t *testing.T) {
	old := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, nil)
	mustTrack(t, old, "t", "ana", 1, `{"v":"old"}`)
	b.MergeDelta(old.Replica(), extract(t, old))

	restarted := newTestTracker(ReplicaID{Node: "a", Epoch: 2}, nil)
	mustTrack(t, restarted, "t", "ana", 1, `{"v":"new"}`)
	if !b.MergeDelta(restarted.Replica(), mustHeartbeatAfter(t, restarted)) {
		t.Fatal("a fresh replica's heartbeat must ask for its state")
	}
	b.MergeState(restarted.Replica(), restarted.FullState())
	if n := len(b.List("t")["ana"]); n != 2 {
		t.Fatalf("want old and new metas before down, got %d", n)
	}
	b.ReplicaDown(old.Replica())
	st := b.List("t")
	if len(st["ana"]) != 1 || string(st["ana"][0].Data) != `{"v":"new"}` {
		t.Fatalf("after down of the old replica got %s", mustJSON(t, st))
	}
}

func mustHeartbeatAfter(t *testing.T, tr *CRDTTracker) Delta {
	t.Helper()
	extract(t, tr) // the delta that went out before the peer listened
	hb, _ := tr.ExtractDelta()
	return hb
}

func TestMergeStateIsCommutativeAndIgnoresSelf(t *testing.T) {
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, nil)
	for i := range 5 {
		mustTrack(t, a, "t", fmt.Sprint("a", i), Owner(i), `{}`)
		mustTrack(t, b, "t", fmt.Sprint("b", i), Owner(i), `{}`)
	}
	a.Untrack("t", 2)
	sa, sb := a.FullState(), b.FullState()
	x := newTestTracker(ReplicaID{Node: "x", Epoch: 1}, nil)
	y := newTestTracker(ReplicaID{Node: "y", Epoch: 1}, nil)
	x.MergeState(a.Replica(), sa)
	x.MergeState(b.Replica(), sb)
	y.MergeState(b.Replica(), sb)
	y.MergeState(a.Replica(), sa)
	y.MergeState(a.Replica(), sa)
	if gx, gy := listJSON(t, x, "t"), listJSON(t, y, "t"); gx != gy {
		t.Fatalf("merge order matters:\n%s\n%s", gx, gy)
	}

	// x relays a's entries back to a: a is the authority on its own entries.
	a.Untrack("t", 3)
	var got []Diff
	a.onDiff = func(d Diff) { got = append(got, d) }
	a.MergeState(x.Replica(), x.FullState())
	if len(got) != 1 || len(got[0].Joins) != 5 || len(got[0].Leaves) != 0 {
		t.Fatalf("diffs = %+v, want one diff with b's 5 joins", got)
	}
	if st := a.List("t"); st["a3"] != nil || st["b0"] == nil {
		t.Fatalf("List=%s: want a3 still gone and b's entries merged", mustJSON(t, st))
	}
}

func TestOwnEarlierIncarnationIsIgnored(t *testing.T) {
	old := NewLocal(ReplicaID{Node: "n1", Epoch: 1}, nil)
	if err := old.Track("t", "k", 1, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	var diffs []Diff
	restarted := NewLocal(ReplicaID{Node: "n1", Epoch: 2}, func(d Diff) { diffs = append(diffs, d) })
	restarted.MergeState(ReplicaID{Node: "n2", Epoch: 1}, old.FullState())
	if len(restarted.List("t")) != 0 || len(diffs) != 0 {
		t.Fatalf("presences of the killed process came back: %v %v", restarted.List("t"), diffs)
	}
}
