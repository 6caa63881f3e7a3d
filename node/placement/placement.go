// Package placement chooses the node that owns a tenant's database work (WAL streaming, the
// tenant DB pool): "the pod nearest its database" of the design. It is pure (no I/O, no clock)
// so the operator, which writes Tenant.status.replication, and standalone nodes, which compute
// the owner over their live members, get the same answer from the same inputs.
//
// Order of preference (docs/protocol.md#placement adapted to a Kubernetes cluster, with measured round-trip times):
//  1. a ready node in the database's labelled region, unless that region's measured RTT to the
//     database is worse than the best measured RTT by more than the Policy's margin;
//  2. the same for the region the cluster's mapping gives for the database's region;
//  3. the ready nodes whose measured RTT is within the margin of the lowest one (an unlabelled
//     database, or one whose region has no ready node, is placed by measurement alone);
//  4. any ready node.
//
// Inside the chosen set, rendezvous (highest random weight) hashing on tenant id + node name
// picks the node: every tenant has its own ranking of nodes, so assignments spread evenly, and
// adding or removing one node only moves the tenants whose top choice it is. Keeping a current
// owner, and when a measured improvement is worth a move, is Policy.Place (sticky.go).
package placement

// Node is one candidate node (a pod).
type Node struct {
	// Name identifies the node (the pod name); it is hashed, so it must be stable.
	Name string
	// Region of the node.
	Region string
	// Ready nodes are candidates; callers mark draining, deleting or fenced nodes not ready.
	Ready bool
	// RTTms is the round-trip time in milliseconds measured from this node to this tenant's
	// database (a robust figure: node/rtt's median of recent samples); 0 or less: not measured.
	RTTms float64
}

func (n *Node) measured() bool { return n.RTTms > 0 }

// Reason says which rule chose the node set.
type Reason string

// Reasons, in order of preference. Every reason except SameRegion is a fallback.
const (
	SameRegion   Reason = "SameRegion"
	MappedRegion Reason = "MappedRegion"
	LowestRTT    Reason = "LowestRTT"
	AnyRegion    Reason = "FallbackAnyRegion"
)

// Decision is the chosen owner.
type Decision struct {
	Node   string
	Region string
	Reason Reason
	// RTTms is the chosen node's measured RTT (0: not measured); BestRTTms the lowest measured
	// RTT of any ready node (0: none measured).
	RTTms, BestRTTms float64
}

// Policy holds the knobs of the RTT rules. The zero value never lets RTT override a region label
// (an infinite margin is not expressible, so use DefaultPolicy for the documented behaviour).
type Policy struct {
	// MarginMs: a node is as good as the best one when its RTT exceeds the lowest measured RTT
	// by at most this much. The labelled region keeps the tenant while its RTT is within the
	// margin, so a label wins over a sub-margin measurement difference.
	MarginMs float64
	// MarginRatio, when > 1, also accepts an RTT up to best*MarginRatio (e.g. 2 for "2x").
	MarginRatio float64
	// Hysteresis governs moves away from a healthy current owner (Place).
	Hysteresis Hysteresis
}

// DefaultPolicy is the operator's and the mesh's default: 5 ms margin, hysteresis per
// DefaultHysteresis.
var DefaultPolicy = Policy{MarginMs: 5, Hysteresis: DefaultHysteresis}

// Choose returns the owner of tenantID's database work under DefaultPolicy.
func Choose(tenantID, dbRegion string, mapping map[string]string, nodes []Node) (Decision, bool) {
	return DefaultPolicy.Choose(tenantID, dbRegion, mapping, nodes)
}

// Choose returns the owner of tenantID's database work, whose database is in dbRegion, given the
// cluster's mapping of database regions to node regions. ok is false when no node is ready.
func (p Policy) Choose(tenantID, dbRegion string, mapping map[string]string, nodes []Node) (Decision, bool) {
	s, ok := p.choose(dbRegion, mapping, nodes)
	if !ok {
		return Decision{}, false
	}
	best, found := -1, false
	var bestScore uint64
	seed := seedOf(tenantID)
	for i := range nodes {
		n := &nodes[i]
		if !s.eligible(n) {
			continue
		}
		sc := scoreFrom(seed, n.Name)
		if !found || sc > bestScore || (sc == bestScore && n.Name < nodes[best].Name) {
			best, bestScore, found = i, sc, true
		}
	}
	n := &nodes[best]
	return Decision{Node: n.Name, Region: n.Region, Reason: s.reason, RTTms: n.RTTms, BestRTTms: s.best}, true
}

// set is the rule that won: the eligible nodes are the ready ones in region ("" = any region)
// whose RTT, when measured and limited, is within limit; needRTT excludes unmeasured nodes.
type set struct {
	reason           Reason
	region           string
	limited, needRTT bool
	limit            float64
	best             float64
}

func (s set) eligible(n *Node) bool {
	if !n.Ready || (s.region != "" && n.Region != s.region) {
		return false
	}
	if !n.measured() {
		return !s.needRTT
	}
	return !s.limited || n.RTTms <= s.limit
}

// choose applies rules 1-4.
func (p Policy) choose(dbRegion string, mapping map[string]string, nodes []Node) (set, bool) {
	best, haveBest := lowestRTT(nodes)
	limit := p.limit(best)
	region := func(r string, reason Reason) (set, bool) {
		s := set{reason: reason, region: r, limited: haveBest, limit: limit, best: best}
		for i := range nodes {
			if s.eligible(&nodes[i]) {
				return s, true
			}
		}
		return set{}, false
	}
	if dbRegion != "" {
		if s, ok := region(dbRegion, SameRegion); ok {
			return s, true
		}
		if m := mapping[dbRegion]; m != "" && m != dbRegion {
			if s, ok := region(m, MappedRegion); ok {
				return s, true
			}
		}
	}
	if haveBest {
		// Unmeasured nodes are out here: RTT is the only reason this set was chosen.
		return set{reason: LowestRTT, limited: true, needRTT: true, limit: limit, best: best}, true
	}
	for i := range nodes {
		if nodes[i].Ready {
			return set{reason: AnyRegion}, true
		}
	}
	return set{}, false
}

// limit is the worst RTT still as good as best.
func (p Policy) limit(best float64) float64 {
	l := best + p.MarginMs
	if p.MarginRatio > 1 && best*p.MarginRatio > l {
		l = best * p.MarginRatio
	}
	return l
}

// lowestRTT is the lowest measured RTT of a ready node.
func lowestRTT(nodes []Node) (float64, bool) {
	best, found := 0.0, false
	for i := range nodes {
		n := &nodes[i]
		if n.Ready && n.measured() && (!found || n.RTTms < best) {
			best, found = n.RTTms, true
		}
	}
	return best, found
}
