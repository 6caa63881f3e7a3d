package presence

import "sort"

// replica returns the state of r, creating it on first sight.
func (t *CRDTTracker) replica(r ReplicaID) *replicaState {
	rs := t.replicas[r]
	if rs == nil {
		rs = &replicaState{id: r, byDot: make(map[uint64]*entry)}
		t.replicas[r] = rs
	}
	return rs
}

// insert stores e under its replica and, if that replica is up, makes it
// visible and reports the join.
func (t *CRDTTracker) insert(e *entry, db *diffBuilder) {
	e.rs.byDot[e.counter] = e
	if !e.rs.down {
		t.show(e)
		db.join(e)
	}
}

// remove forgets e and, if it was visible, reports the leave.
func (t *CRDTTracker) remove(e *entry, db *diffBuilder) {
	delete(e.rs.byDot, e.counter)
	if !e.rs.down {
		t.hide(e)
		db.leave(e)
	}
}

func (t *CRDTTracker) show(e *entry) {
	set := t.topics[e.topic]
	if set == nil {
		set = make(map[*entry]struct{})
		t.topics[e.topic] = set
	}
	set[e] = struct{}{}
}

func (t *CRDTTracker) hide(e *entry) {
	set := t.topics[e.topic]
	delete(set, e)
	if len(set) == 0 {
		delete(t.topics, e.topic)
	}
}

// emit hands the accumulated diffs to the callback, one per topic, in topic
// order so that tests and logs are deterministic.
func (t *CRDTTracker) emit(db *diffBuilder) {
	if t.onDiff == nil || len(db.diffs) == 0 {
		return
	}
	topics := make([]string, 0, len(db.diffs))
	for topic := range db.diffs {
		topics = append(topics, topic)
	}
	sort.Strings(topics)
	for _, topic := range topics {
		t.onDiff(*db.diffs[topic])
	}
}

// diffBuilder groups the joins and leaves of one operation by topic.
type diffBuilder struct {
	diffs map[string]*Diff
}

func newDiffBuilder() *diffBuilder { return &diffBuilder{} }

func (db *diffBuilder) get(topic string) *Diff {
	if db.diffs == nil {
		db.diffs = make(map[string]*Diff, 1)
	}
	d := db.diffs[topic]
	if d == nil {
		d = &Diff{Topic: topic, Joins: State{}, Leaves: State{}}
		db.diffs[topic] = d
	}
	return d
}

func (db *diffBuilder) join(e *entry) {
	d := db.get(e.topic)
	d.Joins[e.key] = append(d.Joins[e.key], e.meta)
}

func (db *diffBuilder) leave(e *entry) {
	d := db.get(e.topic)
	d.Leaves[e.key] = append(d.Leaves[e.key], e.meta)
}
