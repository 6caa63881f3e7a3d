package presence

import (
	"slices"
	"sort"
)

// Delta is what replicas exchange: one Segment per replica it speaks about.
// ExtractDelta produces one Segment (our own); FullState one per known replica.
type Delta struct {
	Segments []Segment
}

// Segment is replica's change over its counter range (From, To]: Adds are all
// of its entries with a dot in that range still live at To, sorted by
// Counter; Removes are the dots <= From it removed in that range, sorted.
// From == To is a heartbeat that only carries the clock. From == 0 is a
// complete snapshot of the replica as of To.
type Segment struct {
	Replica  ReplicaID
	From, To uint64
	Removes  []uint64
	Adds     []Entry
}

// Entry is one presence inside a Segment. Counter is the entry's dot within
// the segment's replica; Owner is meaningful only on that replica.
type Entry struct {
	Counter uint64
	Owner   Owner
	Topic   string
	Key     string
	Meta    Meta
}

// ExtractDelta returns our changes since the previous extraction, for the
// periodic broadcast, and resets the accumulator. When nothing changed it
// returns false and a heartbeat Delta (From == To == our clock), which the
// cluster layer sends every HeartbeatEvery silent periods so that receivers
// detect gaps and liveness.
func (t *CRDTTracker) ExtractDelta() (Delta, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	seg := Segment{Replica: t.self, From: t.pendFrom, To: t.me.clock}
	if seg.From == seg.To {
		return Delta{Segments: []Segment{seg}}, false
	}
	seg.Adds = make([]Entry, 0, len(t.pendAdds))
	for _, e := range sortedEntries(t.pendAdds) {
		seg.Adds = append(seg.Adds, e.export())
	}
	seg.Removes = t.pendRemoves
	slices.Sort(seg.Removes)
	t.pendFrom = t.me.clock
	t.pendAdds = make(map[uint64]*entry)
	t.pendRemoves = nil
	return Delta{Segments: []Segment{seg}}, true
}

// FullState returns everything this replica knows of live replicas, for a
// state transfer to a new peer or one that reported a gap. Replicas this node
// holds down are left out: a newcomer cannot know they are down and would show
// their presences again for a whole down period.
func (t *CRDTTracker) FullState() Delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := Delta{Segments: make([]Segment, 0, len(t.replicas))}
	for _, rs := range t.replicas {
		if rs.clock == 0 || rs.down {
			continue
		}
		seg := Segment{Replica: rs.id, To: rs.clock, Adds: make([]Entry, 0, len(rs.byDot))}
		for _, e := range sortedEntries(rs.byDot) {
			seg.Adds = append(seg.Adds, e.export())
		}
		d.Segments = append(d.Segments, seg)
	}
	sort.Slice(d.Segments, func(i, j int) bool {
		return d.Segments[i].Replica.Compare(d.Segments[j].Replica) < 0
	})
	return d
}

// MergeDelta merges a delta received from replica from and reports whether
// some segment starts past what we know (a gap: a delta was lost), in which
// case the cluster layer should request FullState from `from`. Duplicate and
// stale segments are ignored; the parts without a gap are still merged.
func (t *CRDTTracker) MergeDelta(from ReplicaID, d Delta) (needFullState bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, gone := t.gone[from]; gone {
		return false
	}
	db := newDiffBuilder()
	for i := range d.Segments {
		if t.applySegment(&d.Segments[i], db) {
			needFullState = true
		}
	}
	t.emit(db)
	return needFullState
}

// MergeState merges a FullState received from replica from.
func (t *CRDTTracker) MergeState(from ReplicaID, s Delta) {
	t.MergeDelta(from, s) // snapshots start at 0, so they never have gaps
}

// applySegment merges one segment (see the package doc for the rule) and
// reports a gap. Segments about ourselves are ignored: we are the authority;
// so are segments about an earlier incarnation of this node (same node name,
// older epoch), which a peer may still relay after we restarted: those entries
// belonged to channels that died with the old process.
func (t *CRDTTracker) applySegment(s *Segment, db *diffBuilder) (gap bool) {
	if s.Replica == t.self {
		return false
	}
	if s.Replica.Node == t.self.Node && s.Replica.Epoch < t.self.Epoch {
		t.gone[s.Replica] = struct{}{}
		return false
	}
	if _, gone := t.gone[s.Replica]; gone {
		return false
	}
	rs := t.replicas[s.Replica]
	if rs == nil {
		if s.To == 0 {
			return false
		}
		rs = t.replica(s.Replica)
	}
	if s.To <= rs.clock {
		return false
	}
	if s.From > rs.clock {
		return true
	}
	for _, c := range s.Removes {
		if e := rs.byDot[c]; e != nil {
			t.remove(e, db)
		}
	}
	for _, e := range entriesInRange(rs, s.From, rs.clock) {
		if !hasCounter(s.Adds, e.counter) {
			t.remove(e, db)
		}
	}
	for i := range s.Adds {
		a := &s.Adds[i]
		if a.Counter <= s.From || a.Counter > s.To || rs.byDot[a.Counter] != nil {
			continue
		}
		t.insert(&entry{rs: rs, counter: a.Counter, owner: a.Owner, topic: a.Topic,
			key: a.Key, meta: a.Meta}, db)
	}
	rs.clock = s.To
	return false
}

// entriesInRange returns the entries of rs with a dot in (from, to], sorted,
// walking whichever is smaller: the counter range or the entry map.
func entriesInRange(rs *replicaState, from, to uint64) []*entry {
	if to <= from || len(rs.byDot) == 0 {
		return nil
	}
	var es []*entry
	if to-from <= uint64(len(rs.byDot)) {
		for c := from + 1; c <= to; c++ {
			if e := rs.byDot[c]; e != nil {
				es = append(es, e)
			}
		}
		return es
	}
	for c, e := range rs.byDot {
		if c > from && c <= to {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, compareEntries)
	return es
}

// hasCounter reports whether adds (sorted by Counter) holds counter c.
func hasCounter(adds []Entry, c uint64) bool {
	i := sort.Search(len(adds), func(i int) bool { return adds[i].Counter >= c })
	return i < len(adds) && adds[i].Counter == c
}
