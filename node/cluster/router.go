package cluster

import (
	"slices"

	"github.com/realtimeops/realtime/node/placement"
)

// Hop says what a node receiving a broadcast must do with it (docs/protocol.md#routing).
type Hop byte

const (
	// HopOrigin means the message was published on this node; route it to the whole cluster.
	HopOrigin Hop = 0
	// HopRegion means "forward-to-region": deliver locally and forward once to every other node of
	// the receiver's region.
	HopRegion Hop = 1
	// HopLocal means "forward-to-local": deliver locally only. Never forwarded again.
	HopLocal Hop = 2
)

// Target is one send: which peer, and the hop it receives the message with.
type Target struct {
	Peer string
	Hop  Hop
}

// Router decides where a broadcast goes, given this node and the live members. It is an
// immutable snapshot: the mesh builds a new one whenever a link goes up or down.
type Router struct {
	self    Member
	regions map[string][]string // region -> sorted live node names, self excluded
	order   []string            // regions sorted, for deterministic output
}

// NewRouter builds a router for self over the live peers (self among them is ignored).
func NewRouter(self Member, peers []Member) *Router {
	r := &Router{self: self, regions: make(map[string][]string)}
	for _, p := range peers {
		if p.Name == self.Name || p.Name == "" {
			continue
		}
		r.regions[p.Region] = append(r.regions[p.Region], p.Name)
	}
	for region, names := range r.regions {
		slices.Sort(names)
		r.regions[region] = slices.Compact(names)
		r.order = append(r.order, region)
	}
	slices.Sort(r.order)
	return r
}

// Targets returns the sends for a message of key (the topic) that reached this node with hop,
// first published by origin:
//
//   - HopOrigin (we published): every other node of our region gets HopLocal; each other region
//     gets the message once, HopRegion, at its relay: the node with the highest rendezvous score
//     for key. Using the topic as the key spreads relay load across a region's nodes and keeps
//     all messages of one topic on one path, so they stay in order while membership is stable.
//   - HopRegion (we are the relay): every other node of our region except origin gets HopLocal.
//   - HopLocal: nothing; the message is never forwarded twice.
//
// With every node holding the same live view, each node receives each broadcast exactly once.
func (r *Router) Targets(origin Member, hop Hop, key string) []Target {
	switch hop {
	case HopOrigin:
		out := make([]Target, 0, len(r.regions[r.self.Region])+len(r.order))
		for _, name := range r.regions[r.self.Region] {
			out = append(out, Target{name, HopLocal})
		}
		for _, region := range r.order {
			if region != r.self.Region {
				out = append(out, Target{Relay(key, r.regions[region]), HopRegion})
			}
		}
		return out
	case HopRegion:
		var out []Target
		for _, name := range r.regions[r.self.Region] {
			if name != origin.Name {
				out = append(out, Target{name, HopLocal})
			}
		}
		return out
	default:
		return nil
	}
}

// Relay picks the node of a region that relays messages of key: highest rendezvous score, ties
// broken by name (placement.Highest, the score tenant placement uses). Every node computes the
// same answer from the same list.
func Relay(key string, names []string) string { return placement.Highest(key, names) }
