// Package placement chooses the node that owns a tenant's database work (WAL streaming, the
// tenant DB pool): "the pod nearest its database" of the design. It is pure (no I/O, no clock)
// so the operator, which writes Tenant.status.replication, and standalone nodes, which compute
// the owner over their live members, get the same answer from the same inputs.
//
// Order of preference (spec 8.4 adapted to a Kubernetes cluster):
//  1. a ready node in the database's region;
//  2. a ready node in the region the cluster's mapping gives for the database's region;
//  3. a ready node in the region with the lowest round-trip time measured to the database region;
//  4. any ready node.
//
// Inside the chosen region, rendezvous (highest random weight) hashing on tenant id + node name
// picks the node: every tenant has its own ranking of nodes, so assignments spread evenly, and
// adding or removing one node only moves the tenants whose top choice it is.
package placement

// Node is one candidate node (a pod).
type Node struct {
	// Name identifies the node (the pod name); it is hashed, so it must be stable.
	Name string
	// Region of the node.
	Region string
	// Ready nodes are candidates; callers mark draining, deleting or fenced nodes not ready.
	Ready bool
	// RTTms optionally holds round-trip times in milliseconds measured from this node to
	// database regions, keyed by database region.
	RTTms map[string]float64
}

// Reason says which rule chose the region.
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
}

// Choose returns the owner of tenantID's database work, whose database is in dbRegion, given the
// cluster's mapping of database regions to node regions. ok is false when no node is ready.
func Choose(tenantID, dbRegion string, mapping map[string]string, nodes []Node) (Decision, bool) {
	region, reason, ok := chooseRegion(dbRegion, mapping, nodes)
	if !ok {
		return Decision{}, false
	}
	best, found := -1, false
	var bestScore uint64
	seed := seedOf(tenantID)
	for i := range nodes {
		n := &nodes[i]
		if !n.Ready || (reason != AnyRegion && n.Region != region) {
			continue
		}
		s := scoreFrom(seed, n.Name)
		if !found || s > bestScore || (s == bestScore && n.Name < nodes[best].Name) {
			best, bestScore, found = i, s, true
		}
	}
	return Decision{Node: nodes[best].Name, Region: nodes[best].Region, Reason: reason}, true
}

// ChooseSticky is Choose with stability: when current is ready and in the region Choose picks
// (any region when Choose falls back to AnyRegion), current stays the owner. Moving WAL work
// costs a slot handoff, so a healthy owner is not moved just because a better-ranked node
// appeared; it is moved back to its home region as soon as that region has a ready node.
func ChooseSticky(current, tenantID, dbRegion string, mapping map[string]string, nodes []Node) (Decision, bool) {
	d, ok := Choose(tenantID, dbRegion, mapping, nodes)
	if !ok || current == "" || current == d.Node {
		return d, ok
	}
	for i := range nodes {
		n := &nodes[i]
		if n.Name != current || !n.Ready {
			continue
		}
		if d.Reason == AnyRegion || n.Region == d.Region {
			return Decision{Node: n.Name, Region: n.Region, Reason: d.Reason}, true
		}
	}
	return d, true
}

// chooseRegion applies rules 1-4; for AnyRegion the region is "" (every ready node competes).
func chooseRegion(dbRegion string, mapping map[string]string, nodes []Node) (string, Reason, bool) {
	if dbRegion != "" {
		if hasReady(nodes, dbRegion) {
			return dbRegion, SameRegion, true
		}
		if m := mapping[dbRegion]; m != "" && m != dbRegion && hasReady(nodes, m) {
			return m, MappedRegion, true
		}
		if r, ok := lowestRTTRegion(dbRegion, nodes); ok {
			return r, LowestRTT, true
		}
	}
	for i := range nodes {
		if nodes[i].Ready {
			return "", AnyRegion, true
		}
	}
	return "", "", false
}

func hasReady(nodes []Node, region string) bool {
	for i := range nodes {
		if nodes[i].Ready && nodes[i].Region == region {
			return true
		}
	}
	return false
}

// lowestRTTRegion returns the region of the ready node with the lowest RTT to dbRegion; ties go
// to the lexically smaller region so that every caller agrees.
func lowestRTTRegion(dbRegion string, nodes []Node) (string, bool) {
	best, found := 0.0, false
	region := ""
	for i := range nodes {
		n := &nodes[i]
		if !n.Ready || n.RTTms == nil {
			continue
		}
		rtt, ok := n.RTTms[dbRegion]
		if !ok || rtt < 0 || rtt != rtt { // rtt != rtt: NaN
			continue
		}
		if !found || rtt < best || (rtt == best && n.Region < region) {
			best, region, found = rtt, n.Region, true
		}
	}
	return region, found
}
