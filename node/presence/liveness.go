package presence

import "sort"

// ReplicaInfo describes one replica as this tracker sees it.
type ReplicaInfo struct {
	ID      ReplicaID
	Clock   uint64 // last counter of ID merged here
	Down    bool
	Entries int
}

// Replicas lists the replicas this tracker knows (itself included), sorted.
// The cluster layer can use it for status pages and to pick whom to watch.
func (t *CRDTTracker) Replicas() []ReplicaInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ReplicaInfo, 0, len(t.replicas))
	for _, rs := range t.replicas {
		out = append(out, ReplicaInfo{ID: rs.id, Clock: rs.clock, Down: rs.down, Entries: len(rs.byDot)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.Compare(out[j].ID) < 0 })
	return out
}

// ReplicaDown hides r's entries (they are kept, and still merged, so that
// ReplicaUp can restore them) and emits their leaves. Unknown replicas are
// recorded as down so that whatever arrives about them stays hidden.
func (t *CRDTTracker) ReplicaDown(r ReplicaID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, gone := t.gone[r]; gone || r == t.self {
		return
	}
	rs := t.replica(r)
	if rs.down {
		return
	}
	rs.down = true
	t.hideAll(rs)
}

// ReplicaUp shows r's entries again and emits their joins; no-op if r is not
// down.
func (t *CRDTTracker) ReplicaUp(r ReplicaID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rs := t.replicas[r]
	if rs == nil || !rs.down {
		return
	}
	rs.down = false
	db := newDiffBuilder()
	for _, e := range sortedEntries(rs.byDot) {
		t.show(e)
		db.join(e)
	}
	t.emit(db)
}

// ReplicaPermDown forgets r for good: its entries leave (if still visible)
// and anything later received about r is ignored. A restarted node has a new
// Epoch, so a permanently-down id never legitimately comes back. The
// tombstone costs a few bytes per dead replica.
func (t *CRDTTracker) ReplicaPermDown(r ReplicaID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r == t.self {
		return
	}
	t.gone[r] = struct{}{}
	rs := t.replicas[r]
	if rs == nil {
		return
	}
	delete(t.replicas, r)
	if !rs.down {
		t.hideAll(rs)
	}
}

// hideAll removes rs's entries from the visible presence and emits their leaves; the entries
// stay in rs.byDot.
func (t *CRDTTracker) hideAll(rs *replicaState) {
	db := newDiffBuilder()
	for _, e := range sortedEntries(rs.byDot) {
		t.hide(e)
		db.leave(e)
	}
	t.emit(db)
}
