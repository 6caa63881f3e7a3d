// Package presence implements Supabase Realtime presence (docs/protocol.md#presence) as a
// Phoenix.Tracker-style delta CRDT. It is pure logic: no goroutines, no timers,
// no network I/O. The channel layer calls Track/Untrack/List and turns the
// Diffs it is called back with into presence_diff pushes; the cluster layer
// moves Deltas between nodes and drives failure detection.
//
// # Model
//
// Every node's tracker is one replica, identified by ReplicaID{Node, Epoch}; a
// restarted node picks a new Epoch and so is a new replica. A presence entry
// (topic, key, owner, meta) belongs to the replica whose channel tracked it,
// and only that replica ever adds or removes it. Each local mutation advances
// the replica's counter, and every entry carries the dot (replica, counter) of
// the add that created it.
//
// Because only the owner mutates its entries, the owner's history is a single
// sequence, and the state of replica X's entries "as of counter n" is one
// well-defined set. Every tracker keeps, per replica X, that set as of the
// counter clock[X] (the per-replica vector clock). Merging is then a join on
// a total order per replica: the side with the higher clock[X] has the newer
// set. That makes merges commutative, associative and idempotent, and since
// a removal is only ever an owner's removal of its own dot, concurrent
// operations never conflict (add-wins trivially: nobody but the owner can
// remove an add).
//
// # Deltas
//
// A Delta is a list of Segments. A Segment for replica X covers the counter
// range (From, To] and states, authoritatively:
//
//   - Adds: every entry of X with a dot in (From, To] that is live at To;
//   - Removes: every dot <= From that X removed during (From, To].
//
// A receiver whose clock[X] = c applies a Segment when From <= c < To (it has
// the causal base): it drops Removes, drops its entries in (From, c] that are
// not in Adds, inserts the missing Adds and sets clock[X] = To. A Segment with
// To <= c is old news (duplicate or out of order) and is ignored. A Segment
// with From > c means the receiver missed something: MergeDelta reports
// needFullState and the cluster layer should ask the sender for FullState. A
// full state is just a Segment per known replica with From = 0, so the same
// rule merges it.
//
// # Driving a tracker from the cluster layer
//
// Suggested loop, mirroring Phoenix.Tracker (timing knobs below):
//
//   - every BroadcastPeriod: d, changed := t.ExtractDelta(); if changed, or
//     HeartbeatEvery periods passed silently, send d.MarshalBinary() to the
//     same tracker on every other node (an unchanged Delta is an empty
//     heartbeat that still carries the clock, so receivers notice gaps);
//   - on receipt: d, err := UnmarshalDelta(b); if t.MergeDelta(from, d) and
//     that stays true for a couple of heartbeats, request a transfer; the
//     peer answers with FullState().MarshalBinary(), merged with MergeState;
//   - a replica not heard from for DownPeriod: ReplicaDown(r) (its presences
//     leave); heard again: ReplicaUp(r) (they join again); silent for
//     PermDownPeriod: ReplicaPermDown(r) (forgotten for good). Run these
//     timers for every replica in Replicas(), including ones only learnt
//     through another node's FullState: otherwise the presences of a replica
//     that died before this node met it would never leave.
//
// Diffs are delivered synchronously, under the tracker's lock, to the callback
// given to NewLocal, both for local changes and for merges; one call per topic.
package presence

import "time"

// Timing knobs for the cluster layer, with the defaults of Supabase Realtime
// (PRESENCE_BROADCAST_PERIOD_IN_MS, PRESENCE_PERMDOWN_PERIOD_IN_MS) and of
// Phoenix.Tracker (down period = broadcast period x max silent periods x 2).
const (
	DefaultBroadcastPeriod = 1500 * time.Millisecond
	HeartbeatEvery         = 10 // silent periods before an empty heartbeat
	DefaultDownPeriod      = DefaultBroadcastPeriod * HeartbeatEvery * 2
	DefaultPermDownPeriod  = 20 * time.Minute
)
