package presence

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"strconv"
)

// ReplicaID identifies one tracker instance in the cluster. Epoch is chosen
// at start (e.g. the start time in ns), so a restarted node is a new replica
// and its old entries can be told apart from the new ones.
type ReplicaID struct {
	Node  string
	Epoch int64
}

func (r ReplicaID) String() string { return r.Node + "@" + strconv.FormatInt(r.Epoch, 10) }

// Compare orders replicas by Node then Epoch; used to order metas and
// segments so every replica renders the same state identically.
func (r ReplicaID) Compare(o ReplicaID) int {
	if c := cmp.Compare(r.Node, o.Node); c != 0 {
		return c
	}
	return cmp.Compare(r.Epoch, o.Epoch)
}

// replicaHash folds a 32-bit FNV-1a of the replica id into the 2 bytes the
// phx_ref format reserves for the node.
func replicaHash(r ReplicaID) uint16 {
	h := fnv.New32a()
	h.Write([]byte(r.Node))
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], uint64(r.Epoch))
	h.Write(e[:])
	s := h.Sum32()
	return uint16(s>>16) ^ uint16(s)
}

// makeRef builds a phx_ref: unpadded URL-safe base64 of 12 bytes = 8-byte ns
// timestamp, 2-byte replica hash, 2-byte counter (16 characters).
func makeRef(ts int64, hash uint16, counter uint64) string {
	var buf [12]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(ts))
	binary.BigEndian.PutUint16(buf[8:10], hash)
	binary.BigEndian.PutUint16(buf[10:12], uint16(counter))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

// replicaState is what a tracker knows about one replica: its entries as of
// counter clock (exactly that replica's own set at that counter).
type replicaState struct {
	id    ReplicaID
	clock uint64
	down  bool // entries hidden from List and diffs until ReplicaUp
	byDot map[uint64]*entry
}

// entry is one stored presence. Owner is only meaningful on the owning node.
type entry struct {
	rs      *replicaState
	counter uint64
	owner   Owner
	topic   string
	key     string
	meta    Meta
}

func (e *entry) export() Entry {
	return Entry{Counter: e.counter, Owner: e.owner, Topic: e.topic, Key: e.key, Meta: e.meta}
}

// compareEntries gives the canonical order of metas: by owning replica, then
// by dot, so that List is identical on every converged replica.
func compareEntries(a, b *entry) int {
	if a.rs != b.rs {
		if c := a.rs.id.Compare(b.rs.id); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.counter, b.counter)
}
