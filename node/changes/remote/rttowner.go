package remote

import (
	"github.com/realtimeops/realtime/node/placement"
	"github.com/realtimeops/realtime/node/rtt"
	"github.com/realtimeops/realtime/node/tenant"
)

// candidates are this node and its live peers, all ready, each with its shared RTT figure to
// t's database. The figures are settled ones (rtt.Settler at the measuring node: a figure
// changes only after a significant change held for the hold time), so every node computes
// placement over the same inputs and a stateless Choose agrees across nodes; hysteresis lives
// in the figures, not in per-node memory that a joining node would not have.
func (o *MeshOwner) candidates(t *tenant.Tenant) []placement.Node {
	self := o.mesh.Self()
	rttOf := func(string) float64 { return 0 }
	if o.rtt != nil {
		ep := rtt.Endpoint(t.Database.Host, t.Database.Port)
		rttOf = func(node string) float64 { return o.rtt(node, ep) }
	}
	nodes := []placement.Node{{Name: self.Name, Region: self.Region, Ready: true, RTTms: rttOf(self.Name)}}
	for _, p := range o.mesh.Peers() {
		if p.Name != self.Name {
			nodes = append(nodes, placement.Node{Name: p.Name, Region: p.Region, Ready: true, RTTms: rttOf(p.Name)})
		}
	}
	return nodes
}

// choose is t's owner now, with the rule that chose it and the RTT figures behind it.
func (o *MeshOwner) choose(t *tenant.Tenant) (placement.Decision, []placement.Node) {
	nodes := o.candidates(t)
	d, _ := o.policy.Choose(t.ExternalID, t.Database.Region, o.mapping, nodes)
	return d, nodes
}

// why explains a change of owner from prev to d for the log: LowerRTT when prev is still a
// live member (only figures changed), with both figures.
func why(prev string, d placement.Decision, nodes []placement.Node) []any {
	for _, n := range nodes {
		if n.Name == prev && n.RTTms > 0 && d.RTTms > 0 && d.RTTms < n.RTTms {
			return []any{"reason", "LowerRTT", "message",
				"LowerRTT from " + placement.FormatMs(n.RTTms) + " ms to " + placement.FormatMs(d.RTTms) + " ms"}
		}
	}
	return []any{"reason", string(d.Reason)}
}

// recheck re-evaluates every tenant this node has answered for and reports whether any answer
// changed: RTT figures change without a membership event.
func (o *MeshOwner) recheck() bool {
	o.mu.Lock()
	ids := make([]string, 0, len(o.last))
	for id := range o.last {
		ids = append(ids, id)
	}
	o.mu.Unlock()
	for _, id := range ids {
		t, ok := o.tenants(id)
		if !ok || t.Database == nil {
			continue
		}
		d, _ := o.choose(t)
		o.mu.Lock()
		prev := o.last[id]
		o.mu.Unlock()
		if d.Node != prev {
			return true
		}
	}
	return false
}
