package placement

// FNV-1a (64 bit) over tenantID, a 0 separator and the node name, finished with the splitmix64
// mixer: FNV alone has weak high bits for short, similar inputs (pod names differ only in the
// trailing ordinal), and rendezvous hashing compares whole 64-bit scores.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Score is the rendezvous weight of node for tenantID; the highest score wins.
func Score(tenantID, node string) uint64 { return scoreFrom(seedOf(tenantID), node) }

// Highest returns the name with the highest rendezvous score for key, ties broken by the smaller
// name, or "" when names is empty. Every caller that ranks nodes for a key (tenant owners here,
// cross-region relays in node/cluster) uses it, so all nodes agree on the answer.
func Highest(key string, names []string) string {
	seed := seedOf(key)
	best, bestScore := "", uint64(0)
	for _, n := range names {
		s := scoreFrom(seed, n)
		if best == "" || s > bestScore || (s == bestScore && n < best) {
			best, bestScore = n, s
		}
	}
	return best
}

// seedOf hashes the tenant part once so that ranking n nodes costs n short hashes.
func seedOf(tenantID string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(tenantID); i++ {
		h ^= uint64(tenantID[i])
		h *= fnvPrime
	}
	h ^= 0 // separator byte, so ("ab","c") and ("a","bc") differ
	h *= fnvPrime
	return h
}

func scoreFrom(seed uint64, node string) uint64 {
	h := seed
	for i := 0; i < len(node); i++ {
		h ^= uint64(node[i])
		h *= fnvPrime
	}
	return mix(h)
}

// mix is the splitmix64 finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
