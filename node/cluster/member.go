package cluster

import (
	"cmp"
	"context"
	"slices"
)

// Member is one node of the cluster as discovery and the link handshake know it.
type Member struct {
	// Name identifies the node cluster-wide (e.g. "realtime@10.0.3.7"); empty when the discovery
	// source cannot know it (DNS), in which case the handshake fills it in.
	Name string `json:"name"`
	// Region groups nodes for routing (docs/protocol.md#routing); empty from DNS until the handshake.
	Region string `json:"region"`
	// Addr is host:port of the node's cluster link listener.
	Addr string `json:"addr"`
	// Epoch changes every time the node process starts (unix nanoseconds of start is fine), so a
	// restarted node is a new replica for presence and a new peer for the mesh.
	Epoch int64 `json:"epoch"`
}

// Discovery tells the mesh which nodes exist. Implementations: PostgresDiscovery, DNSDiscovery,
// StaticDiscovery.
type Discovery interface {
	// Run keeps the member list current until ctx ends; it returns nil on ctx end and retries
	// transient failures (a database restart, a DNS timeout) itself.
	Run(ctx context.Context) error
	// Members returns the known members, including the node itself when the source lists it,
	// sorted by Addr. The result is a copy.
	Members() []Member
	// Changes signals (coalesced, capacity 1) that Members may have changed. It has a single
	// consumer: the Mesh built on this Discovery.
	Changes() <-chan struct{}
}

// sortMembers orders members by Addr then Name so lists compare stably.
func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int {
		if c := cmp.Compare(a.Addr, b.Addr); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// notify does a non-blocking send on a capacity-1 signal channel: many changes, one wake-up.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
