package cluster

import (
	"time"
)

// heartbeatTable is the pure core of heartbeat-based discovery: who was heard from when, and who
// has been silent too long. It is not safe for concurrent use; its owner locks.
type heartbeatTable struct {
	self    string
	members map[string]seenMember // by Name
}

type seenMember struct {
	Member
	lastSeen time.Time
}

func newHeartbeatTable(self string) *heartbeatTable {
	return &heartbeatTable{self: self, members: make(map[string]seenMember)}
}

// observe records a heartbeat and reports whether the visible member list changed (a new name,
// or a known name with a new epoch, address or region). A heartbeat from an older epoch than the
// one known is ignored: it is a delayed message of a process that has since restarted.
func (t *heartbeatTable) observe(m Member, now time.Time) (changed bool) {
	if m.Name == "" {
		return false
	}
	old, ok := t.members[m.Name]
	if ok && m.Epoch < old.Epoch {
		return false
	}
	t.members[m.Name] = seenMember{Member: m, lastSeen: now}
	return !ok || old.Member != m
}

// forget removes a member that said goodbye, unless the goodbye is from an older epoch.
func (t *heartbeatTable) forget(m Member) (changed bool) {
	old, ok := t.members[m.Name]
	if !ok || m.Name == t.self || m.Epoch < old.Epoch {
		return false
	}
	delete(t.members, m.Name)
	return true
}

// expire drops every member other than self not heard from within window before now.
func (t *heartbeatTable) expire(now time.Time, window time.Duration) (gone []Member) {
	for name, s := range t.members {
		if name != t.self && now.Sub(s.lastSeen) > window {
			delete(t.members, name)
			gone = append(gone, s.Member)
		}
	}
	sortMembers(gone)
	return gone
}

// touchAll pretends everyone was just heard from. Used after our own discovery connection comes
// back: while it was down we heard nothing, which says nothing about the peers' health.
func (t *heartbeatTable) touchAll(now time.Time) {
	for name, s := range t.members {
		s.lastSeen = now
		t.members[name] = s
	}
}

// list returns the members sorted by Addr.
func (t *heartbeatTable) list() []Member {
	out := make([]Member, 0, len(t.members))
	for _, s := range t.members {
		out = append(out, s.Member)
	}
	sortMembers(out)
	return out
}
