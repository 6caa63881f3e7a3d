package placement

import (
	"strconv"
	"time"
)

// Hysteresis decides when a measured improvement is worth moving a healthy owner. Moving WAL
// work costs a slot handoff (a pause of the tenant's changes, a reconnect to the database), and
// RTT figures are noisy, so a move away from a ready owner that the region rules still accept
// needs a gain that is both large in absolute terms and relative to the current RTT, and that
// holds at every evaluation for Hold. One evaluation without the gain cancels the pending move.
type Hysteresis struct {
	// MinGainMs: the candidate's RTT must be lower than the owner's by at least this much.
	MinGainMs float64
	// MinGainRatio: and by at least this fraction of the owner's RTT (0.2 = 20% lower).
	MinGainRatio float64
	// Hold: the gain must be seen continuously for this long before the move.
	Hold time.Duration
}

// DefaultHysteresis means 10 ms and 20% lower, with no hold of its own. The sustained part is done
// where the samples are: a node's published figure (node/rtt Settle) follows a change only after
// it held for the node's RTT hold (2 minutes), so a figure placement sees has already lasted.
// Hold > 0 adds a hold in the decider (the operator: RealtimeCluster spec.placement.rttHold).
var DefaultHysteresis = Hysteresis{MinGainMs: 10, MinGainRatio: 0.2}

// Pending is a move that waits for its gain to be sustained; the zero value is none.
type Pending struct {
	// Node is the candidate the last evaluation would have moved to.
	Node string
	// Since is when the gain was first seen (unbroken since).
	Since time.Time
}

// Outcome is the result of Place.
type Outcome struct {
	Decision
	// Pending is the state to pass to the next Place call for this tenant.
	Pending Pending
	// LowerRTT is true when Decision moves a healthy owner for a measured gain; FromMs and
	// ToMs are the owner's and the new node's RTT then.
	LowerRTT     bool
	FromMs, ToMs float64
}

// Place is Choose with stability. A current owner that is ready and eligible under the rule
// that wins stays. A ready owner that only the RTT rules reject (the region rules alone would
// keep it) stays until the Hysteresis gain has held for Hold (at once with Hold 0, but never
// for a gain under the thresholds); then the tenant moves and Outcome.LowerRTT says so. Any other change (owner gone, not ready, outside the home region
// that now has a ready node) moves at once, as before measurements existed.
func (p Policy) Place(current string, pending Pending, now time.Time, tenantID, dbRegion string, mapping map[string]string, nodes []Node) (Outcome, bool) {
	d, ok := p.Choose(tenantID, dbRegion, mapping, nodes)
	if !ok || current == "" || current == d.Node {
		return Outcome{Decision: d}, ok
	}
	cur := find(nodes, current)
	if cur == nil || !cur.Ready {
		return Outcome{Decision: d}, true
	}
	stay := Outcome{Decision: Decision{Node: cur.Name, Region: cur.Region, Reason: d.Reason, RTTms: cur.RTTms, BestRTTms: d.BestRTTms}}
	if s, _ := p.choose(dbRegion, mapping, nodes); s.eligible(cur) {
		return stay, true
	}
	if !p.regionsKeep(cur, dbRegion, mapping, nodes) {
		return Outcome{Decision: d}, true
	}
	// Only RTT speaks against the owner: move for a sustained, significant gain.
	if !cur.measured() || !d.measuredGain(cur.RTTms, p.Hysteresis) {
		return stay, true
	}
	if p.Hysteresis.Hold <= 0 {
		return Outcome{Decision: d, LowerRTT: true, FromMs: cur.RTTms, ToMs: d.RTTms}, true
	}
	if pending.Node == "" {
		stay.Pending = Pending{Node: d.Node, Since: now}
		return stay, true
	}
	if now.Sub(pending.Since) < p.Hysteresis.Hold {
		stay.Pending = Pending{Node: d.Node, Since: pending.Since}
		return stay, true
	}
	return Outcome{Decision: d, LowerRTT: true, FromMs: cur.RTTms, ToMs: d.RTTms}, true
}

// regionsKeep: the rules with every RTT ignored would keep cur as an eligible owner.
func (p Policy) regionsKeep(cur *Node, dbRegion string, mapping map[string]string, nodes []Node) bool {
	blind := make([]Node, len(nodes))
	for i, n := range nodes {
		n.RTTms = 0
		blind[i] = n
	}
	c := *cur
	c.RTTms = 0
	s, ok := p.choose(dbRegion, mapping, blind)
	return ok && s.eligible(&c)
}

// measuredGain: d's node is measured and better than fromMs by the hysteresis thresholds.
func (d Decision) measuredGain(fromMs float64, h Hysteresis) bool {
	if d.RTTms <= 0 {
		return false
	}
	gain := fromMs - d.RTTms
	return gain >= h.MinGainMs && gain >= h.MinGainRatio*fromMs && gain > 0
}

// ChooseSticky is DefaultPolicy.Place without hysteresis state: a ready, eligible current owner
// stays; a significant RTT gain moves at once.
func ChooseSticky(current, tenantID, dbRegion string, mapping map[string]string, nodes []Node) (Decision, bool) {
	o, ok := DefaultPolicy.Place(current, Pending{}, time.Time{}, tenantID, dbRegion, mapping, nodes)
	return o.Decision, ok
}

func find(nodes []Node, name string) *Node {
	for i := range nodes {
		if nodes[i].Name == name {
			return &nodes[i]
		}
	}
	return nil
}

// FormatMs renders an RTT for messages: one decimal below 10 ms, whole ms above.
func FormatMs(ms float64) string {
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}
