package cluster

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// attach installs an authenticated link as the peer's current one, or refuses it when a better
// link exists. It returns the link it replaced (to be waited for by the new writer).
func (m *Mesh) attach(l *link) (ok bool, prev *link) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopping {
		return false, nil
	}
	name := l.peer.Name
	p := m.peers[name]
	if p == nil {
		p = m.newPeerLocked(l.peer)
	}
	cur := p.link
	if cur != nil {
		if l.peer.Epoch < cur.peer.Epoch || (l.peer.Epoch == cur.peer.Epoch && cur.preferred && !l.preferred) {
			return false, nil
		}
		cur.close()
		if cur.peer.Epoch != l.peer.Epoch {
			m.events.publish(PeerEvent{Kind: PeerDown, Peer: cur.peer})
		}
	}
	if p.member.Epoch != 0 && p.member.Epoch != l.peer.Epoch {
		// A restarted peer: what we queued was meant for its previous life.
		p.q.drain(nil)
	}
	if cur == nil && p.everUp {
		m.met.reconnects.Inc()
	}
	if cur == nil || cur.peer.Epoch != l.peer.Epoch {
		m.events.publish(PeerEvent{Kind: PeerUp, Peer: l.peer})
		m.log.Info("cluster link up", "peer", name, "region", l.peer.Region, "addr", l.peer.Addr,
			"epoch", l.peer.Epoch)
	}
	p.link, p.member, p.everUp = l, l.peer, true
	m.addrNames[l.peer.Addr] = name
	m.rebuildRouterLocked()
	return true, cur
}

// detach marks the peer down if l is still its current link.
func (m *Mesh) detach(l *link, cause error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.peers[l.peer.Name]
	if p == nil || p.link != l {
		return // replaced by a newer link: nothing changed for the peer
	}
	p.link, p.downAt = nil, time.Now()
	m.events.publish(PeerEvent{Kind: PeerDown, Peer: l.peer})
	m.rebuildRouterLocked()
	if !m.stopping {
		m.log.Warn("cluster link down", "peer", l.peer.Name, "err", cause, "up_for", time.Since(l.upAt).Round(time.Millisecond))
	}
}

// serveLink runs a link until it fails, then marks the peer down.
func (m *Mesh) serveLink(l *link, prev *link) {
	p := m.peerOf(l.peer.Name)
	if p == nil { // cannot happen while l is attached; be safe rather than crash
		l.close()
		return
	}
	go l.writeLoop(p.q, prev, &m.opts, m.met)
	err := l.readLoop(&m.opts, func(typ byte, payload []byte) { m.dispatch(l.peer, typ, payload) })
	l.close()
	<-l.writerDone
	m.detach(l, err)
}

func (m *Mesh) peerOf(name string) *peerState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peers[name]
}

func (m *Mesh) newPeerLocked(mem Member) *peerState {
	p := &peerState{member: mem, q: newSendQueue(m.opts.QueueLen, m.opts.QueueBytes)}
	m.peers[mem.Name] = p
	m.publishPeerMapLocked()
	return p
}

func (m *Mesh) publishPeerMapLocked() {
	snapshot := maps.Clone(m.peers)
	m.peerMap.Store(&snapshot)
}

func (m *Mesh) livePeersLocked() []Member {
	var out []Member
	for _, p := range m.peers {
		if p.link != nil {
			out = append(out, p.link.peer)
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (m *Mesh) rebuildRouterLocked() {
	m.router.Store(NewRouter(m.self, m.livePeersLocked()))
}

// syncPeersLocked creates peer states for named discovery members (so Send can queue before the
// first link) and forgets peers that are down and no longer listed.
func (m *Mesh) syncPeersLocked(members []Member, now time.Time) {
	listed := make(map[string]bool, len(members))
	changed := false
	for _, mem := range members {
		if mem.Name == "" || mem.Name == m.self.Name {
			continue
		}
		listed[mem.Name] = true
		if m.peers[mem.Name] == nil {
			p := &peerState{member: mem, q: newSendQueue(m.opts.QueueLen, m.opts.QueueBytes), downAt: now}
			m.peers[mem.Name] = p
			changed = true
		}
	}
	for name, p := range m.peers {
		if p.link == nil && !listed[name] && now.Sub(p.downAt) > m.opts.ForgetAfter {
			delete(m.peers, name)
			changed = true
			m.log.Info("forgot cluster peer", "peer", name, "dropped_queued", p.q.depth())
		}
	}
	if changed {
		m.publishPeerMapLocked()
	}
}
