package cluster

import (
	"encoding/binary"
	"errors"
	"time"
)

// counterTable holds the latest per-tenant counts each peer reported. Pure; its owner locks.
type counterTable struct {
	peers map[string]peerCounts
}

type peerCounts struct {
	epoch  int64
	counts map[string]int
	at     time.Time
}

func newCounterTable() *counterTable { return &counterTable{peers: make(map[string]peerCounts)} }

// apply replaces peer's counts with a newer report; reports of an older epoch are ignored.
func (t *counterTable) apply(peer Member, counts map[string]int, now time.Time) {
	if old, ok := t.peers[peer.Name]; ok && peer.Epoch < old.epoch {
		return
	}
	t.peers[peer.Name] = peerCounts{epoch: peer.Epoch, counts: counts, at: now}
}

// drop forgets a peer that went down (unless the report is from a newer epoch).
func (t *counterTable) drop(peer Member) {
	if old, ok := t.peers[peer.Name]; ok && old.epoch <= peer.Epoch {
		delete(t.peers, peer.Name)
	}
}

// expire forgets reports older than ttl: a safety net if a down event raced a late report.
func (t *counterTable) expire(now time.Time, ttl time.Duration) {
	for name, pc := range t.peers {
		if now.Sub(pc.at) > ttl {
			delete(t.peers, name)
		}
	}
}

// total sums tenant over all peers.
func (t *counterTable) total(tenant string) int {
	n := 0
	for _, pc := range t.peers {
		n += pc.counts[tenant]
	}
	return n
}

// encodeCounts: uvarint entries | per entry: uvarint len | tenant | uvarint count.
func encodeCounts(counts map[string]int) []byte {
	b := binary.AppendUvarint(nil, uint64(len(counts)))
	for tenant, n := range counts {
		b = binary.AppendUvarint(b, uint64(len(tenant)))
		b = append(b, tenant...)
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

var errCounts = errors.New("malformed counters payload")

// maxTenantCount caps a decoded count: a corrupt value must not overflow a sum.
const maxTenantCount = 1 << 40

func decodeCounts(b []byte) (map[string]int, error) {
	n, k := binary.Uvarint(b)
	// Each entry takes at least 2 bytes, which bounds the map size by the payload size.
	if k <= 0 || n > uint64(len(b)) {
		return nil, errCounts
	}
	b = b[k:]
	out := make(map[string]int, n)
	for range n {
		tenant, rest, ok := readString(b)
		if !ok {
			return nil, errCounts
		}
		c, k := binary.Uvarint(rest)
		if k <= 0 || c > maxTenantCount {
			return nil, errCounts
		}
		out[tenant] = int(c)
		b = rest[k:]
	}
	if len(b) != 0 {
		return nil, errCounts
	}
	return out, nil
}
