package cluster

import (
	"context"
	"time"
)

// dialTargets decides which discovered addresses this node dials: every member except itself
// whose name is unknown or sorts after ours (the lower name dials, so each pair has one link).
// Names come from discovery or, for DNS members, from earlier handshakes (addrNames).
func dialTargets(self Member, members []Member, addrNames map[string]string, selfAddrs map[string]bool) map[string]Member {
	out := make(map[string]Member)
	for _, mem := range members {
		if mem.Addr == "" || mem.Addr == self.Addr || selfAddrs[mem.Addr] || mem.Name == self.Name {
			continue
		}
		name := mem.Name
		if name == "" {
			name = addrNames[mem.Addr]
		}
		if name == self.Name || (name != "" && name < self.Name) {
			continue
		}
		out[mem.Addr] = mem
	}
	return out
}

// reconcileLoop follows discovery: starts dial loops for new targets and syncs peer states, on
// every discovery change and every second (names learned in handshakes change the targets too).
func (m *Mesh) reconcileLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		m.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-m.disc.Changes():
		case <-tick.C:
		}
	}
}

func (m *Mesh) reconcile(ctx context.Context) {
	members := m.disc.Members()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopping {
		return
	}
	m.syncPeersLocked(members, time.Now())
	m.forgetAddrsLocked(members)
	for addr := range dialTargets(m.self, members, m.addrNames, m.selfAddrs) {
		if !m.dialers[addr] {
			m.dialers[addr] = true
			m.spawn(func() { m.dialLoop(ctx, addr) })
		}
	}
}

// dialTarget returns the current target at addr and whether to keep dialing it; when not, it
// unregisters the dial loop (under the same lock reconcile uses, so none is lost or doubled).
func (m *Mesh) dialTarget(addr string) (Member, bool) {
	members := m.disc.Members()
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := dialTargets(m.self, members, m.addrNames, m.selfAddrs)[addr]
	if !ok || m.stopping {
		delete(m.dialers, addr)
		return Member{}, false
	}
	return t, true
}

// forgetAddrsLocked drops what handshakes taught about addresses that discovery no longer lists
// and no known peer uses. With DNS discovery every pod restart brings a new address, so without
// this addrNames and selfAddrs would grow for the life of the process.
func (m *Mesh) forgetAddrsLocked(members []Member) {
	inUse := make(map[string]bool, len(members)+len(m.peers))
	for _, mem := range members {
		inUse[mem.Addr] = true
	}
	for _, p := range m.peers {
		inUse[p.member.Addr] = true
	}
	for addr := range m.addrNames {
		if !inUse[addr] {
			delete(m.addrNames, addr)
		}
	}
	for addr := range m.selfAddrs {
		if !inUse[addr] {
			delete(m.selfAddrs, addr)
		}
	}
}
