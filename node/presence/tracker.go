package presence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Owner identifies the local owner of an entry (a channel instance); unique
// per node. An owner has at most one entry per topic.
type Owner uint64

// Tracker is the seam the channel layer uses. Diffs are delivered
// synchronously to the callback given at construction, for local changes and
// for remote merges; the callback must not call back into the tracker.
type Tracker interface {
	// Track adds the owner's entry on topic, or updates it (new ref,
	// phx_ref_prev = old ref) if the owner already tracks on topic. A Track
	// identical to the current entry (same key and meta) is a no-op.
	Track(topic, key string, owner Owner, meta json.RawMessage) error
	// Untrack removes the owner's entry on topic; no-op if absent.
	Untrack(topic string, owner Owner)
	// UntrackAll removes every entry of owner (the channel went away).
	UntrackAll(owner Owner)
	// List returns the visible presence of topic (for presence_state).
	List(topic string) State
}

var _ Tracker = (*CRDTTracker)(nil)

// CRDTTracker is one replica of the presence CRDT. It is safe for concurrent
// use; all methods take one mutex, and diffs are emitted while holding it so
// that callbacks observe changes in order.
type CRDTTracker struct {
	mu     sync.Mutex
	onDiff func(Diff)
	now    func() int64 // ns clock for refs; replaced in tests
	lastTS int64
	hash   uint16

	self     ReplicaID
	me       *replicaState
	replicas map[ReplicaID]*replicaState // includes me
	gone     map[ReplicaID]struct{}      // permanently down: never resurrected
	topics   map[string]map[*entry]struct{}
	local    map[Owner]map[string]*entry

	// Local changes not yet handed out by ExtractDelta: the range
	// (pendFrom, me.clock], live adds in it and removed dots <= pendFrom.
	pendFrom    uint64
	pendAdds    map[uint64]*entry
	pendRemoves []uint64
}

// NewLocal returns the tracker of replica; onDiff (may be nil) receives every
// change of the visible presence, one Diff per topic.
func NewLocal(replica ReplicaID, onDiff func(Diff)) *CRDTTracker {
	t := &CRDTTracker{
		onDiff:   onDiff,
		now:      func() int64 { return time.Now().UnixNano() },
		hash:     replicaHash(replica),
		self:     replica,
		replicas: make(map[ReplicaID]*replicaState),
		gone:     make(map[ReplicaID]struct{}),
		topics:   make(map[string]map[*entry]struct{}),
		local:    make(map[Owner]map[string]*entry),
		pendAdds: make(map[uint64]*entry),
	}
	t.me = t.replica(replica)
	return t
}

// Replica returns the id of this tracker's replica.
func (t *CRDTTracker) Replica() ReplicaID { return t.self }

// Track implements Tracker.
func (t *CRDTTracker) Track(topic, key string, owner Owner, meta json.RawMessage) error {
	data, err := normalizeMeta(meta)
	if err != nil {
		return fmt.Errorf("presence track on %q: %w", topic, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.local[owner][topic]
	if old != nil && old.key == key && bytes.Equal(old.meta.Data, data) {
		return nil
	}
	db := newDiffBuilder()
	e := &entry{rs: t.me, owner: owner, topic: topic, key: key}
	if old != nil {
		e.meta.PrevRef = old.meta.Ref
		t.removeLocal(old, db)
	}
	t.me.clock++
	e.counter = t.me.clock
	e.meta.Ref = t.newRef(e.counter)
	e.meta.Data = data
	t.insert(e, db)
	t.pendAdds[e.counter] = e
	byTopic := t.local[owner]
	if byTopic == nil {
		byTopic = make(map[string]*entry, 1)
		t.local[owner] = byTopic
	}
	byTopic[topic] = e
	t.emit(db)
	return nil
}

// Untrack implements Tracker.
func (t *CRDTTracker) Untrack(topic string, owner Owner) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.local[owner][topic]
	if e == nil {
		return
	}
	db := newDiffBuilder()
	t.me.clock++ // a removal must advance the clock so peers see a new range
	t.removeLocal(e, db)
	t.emit(db)
}

// UntrackAll implements Tracker.
func (t *CRDTTracker) UntrackAll(owner Owner) {
	t.mu.Lock()
	defer t.mu.Unlock()
	byTopic := t.local[owner]
	if len(byTopic) == 0 {
		return
	}
	db := newDiffBuilder()
	t.me.clock++
	for _, e := range sortedEntries(byTopic) {
		t.removeLocal(e, db)
	}
	t.emit(db)
}

// List implements Tracker: metas per key in canonical order (by owning
// replica, then dot), identical on converged replicas. Never nil.
func (t *CRDTTracker) List(topic string) State {
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.topics[topic]
	es := make([]*entry, 0, len(set))
	for e := range set {
		es = append(es, e)
	}
	slices.SortFunc(es, compareEntries)
	st := make(State, len(es))
	for _, e := range es {
		st[e.key] = append(st[e.key], e.meta)
	}
	return st
}

// Topics returns the topics with at least one visible presence, sorted.
func (t *CRDTTracker) Topics() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.topics))
	for topic := range t.topics {
		out = append(out, topic)
	}
	sort.Strings(out)
	return out
}

// removeLocal removes one of our own entries and records it in the pending
// delta; the caller has advanced the clock.
func (t *CRDTTracker) removeLocal(e *entry, db *diffBuilder) {
	t.remove(e, db)
	if e.counter > t.pendFrom {
		delete(t.pendAdds, e.counter) // peers never saw it: nothing to send
	} else {
		t.pendRemoves = append(t.pendRemoves, e.counter)
	}
	if byTopic := t.local[e.owner]; byTopic != nil {
		delete(byTopic, e.topic)
		if len(byTopic) == 0 {
			delete(t.local, e.owner)
		}
	}
}

// newRef returns a phx_ref whose timestamp strictly increases per replica, so
// refs are unique even if the wall clock stalls or steps back.
func (t *CRDTTracker) newRef(counter uint64) string {
	ts := t.now()
	if ts <= t.lastTS {
		ts = t.lastTS + 1
	}
	t.lastTS = ts
	return makeRef(ts, t.hash, counter)
}

func sortedEntries[K comparable](m map[K]*entry) []*entry {
	es := make([]*entry, 0, len(m))
	for _, e := range m {
		es = append(es, e)
	}
	slices.SortFunc(es, compareEntries)
	return es
}
