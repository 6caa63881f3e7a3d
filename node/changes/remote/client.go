package remote

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/tenant"
)

// clientSub is a channel's subscription on this node, registered with every node streaming its
// tenant.
type clientSub struct {
	token    uint64
	t        *tenant.Tenant
	ctx      context.Context
	claims   map[string]any
	bindings []changes.Binding
	wire     []byte // the registration message, encoded once
	sink     changes.Subscriber
	at       map[string]func() // node → how to end the registration there (nil for peers)
}

// Subscribe has changes.Service.Subscribe's contract, for a cluster: the subscription is
// registered with the tenant's owner wherever it runs, and moves with it. System messages come
// from the owner: "Subscribed to PostgreSQL" is sent again after a move, once the new owner's
// stream is past the re-registration (it is true again, and says so).
func (l *Layer) Subscribe(ctx context.Context, t *tenant.Tenant, claims map[string]any, bindings []changes.Binding, sink changes.Subscriber) (unsubscribe func()) {
	if len(bindings) == 0 {
		return func() {}
	}
	claimsJSON, err := json.Marshal(claims)
	if err != nil || claims == nil {
		claimsJSON = []byte("{}")
	}
	raw := []byte{'['}
	for i, b := range bindings {
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, b.Raw...)
	}
	raw = append(raw, ']')
	l.mu.Lock()
	l.nextToken++
	s := &clientSub{token: l.nextToken, t: t, ctx: ctx, claims: claims, bindings: bindings, sink: sink, at: map[string]func(){}}
	s.wire = reg{Tenant: t.ExternalID, Token: s.token, Claims: claimsJSON, Bindings: raw}.encode()
	l.subs[s.token] = s
	if l.byTenant[t.ExternalID] == nil {
		l.byTenant[t.ExternalID] = map[uint64]*clientSub{}
	}
	l.byTenant[t.ExternalID][s.token] = s
	l.reconcileSubLocked(s)
	l.mu.Unlock()
	var once sync.Once
	unsub := func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			for node := range s.at {
				l.unregisterLocked(s, node)
			}
			delete(l.subs, s.token)
			if m := l.byTenant[t.ExternalID]; m != nil {
				delete(m, s.token)
				if len(m) == 0 {
					delete(l.byTenant, t.ExternalID)
				}
			}
		})
	}
	stop := context.AfterFunc(ctx, unsub)
	// An explicit unsubscribe also drops the callback, which would otherwise stay registered
	// on a long-lived ctx (the connection's) for every leave.
	return func() { stop(); unsub() }
}

// reconcileSubLocked registers s with every claimant of its tenant and ends registrations with
// nodes that no longer claim it.
func (l *Layer) reconcileSubLocked(s *clientSub) {
	want := l.claimants[s.t.ExternalID]
	for node := range want {
		if _, ok := s.at[node]; !ok {
			l.registerLocked(s, node)
		}
	}
	for node := range s.at {
		if !want[node] {
			l.unregisterLocked(s, node)
		}
	}
}

func (l *Layer) reconcileTenantLocked(tenantID string) {
	for _, s := range l.byTenant[tenantID] {
		l.reconcileSubLocked(s)
	}
}

func (l *Layer) registerLocked(s *clientSub, node string) {
	l.log.Debug("register", "tenant", s.t.ExternalID, "token", s.token, "at", node)
	if node != l.self.Name {
		l.send(node, cluster.TypeChangeRegister, s.wire)
		s.at[node] = nil
		return
	}
	h := &hosted{key: hostKey{node: l.self.Name, epoch: l.self.Epoch, token: s.token}, tenant: s.t.ExternalID}
	l.hosted[h.key] = h
	h.unsub = l.svc.Subscribe(s.ctx, s.t, s.claims, s.bindings, &localProxy{l: l, h: h, sink: s.sink})
	s.at[node] = func() {
		h.unsub()
		delete(l.hosted, h.key)
	}
}

func (l *Layer) unregisterLocked(s *clientSub, node string) {
	end, ok := s.at[node]
	if !ok {
		return
	}
	l.log.Debug("unregister", "tenant", s.t.ExternalID, "token", s.token, "at", node)
	delete(s.at, node)
	if end != nil {
		end()
		return
	}
	l.send(node, cluster.TypeChangeUnreg, encodeToken(s.token))
}

// localProxy is the Subscriber of a registration at this node: it hands everything to the
// channel directly and reports validation to the stream gate.
type localProxy struct {
	l    *Layer
	h    *hosted
	sink changes.Subscriber
}

func (p *localProxy) PostgresChange(ids []int64, data json.RawMessage) {
	p.sink.PostgresChange(ids, data)
}

func (p *localProxy) System(status, message string) {
	if status == "error" {
		p.l.settle(p.h)
	}
	p.sink.System(status, message)
}

func (p *localProxy) Registered() { p.l.settle(p.h) }

// sinkOf returns the channel of a token (nil when unsubscribed).
func (l *Layer) sinkOf(token uint64) changes.Subscriber {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.subs[token]; s != nil {
		return s.sink
	}
	return nil
}

func (l *Layer) onChange(from cluster.Member, payload []byte) {
	m, err := decodeChange(payload)
	if err != nil {
		l.log.Warn("dropping malformed change", "from", from.Name, "err", err)
		return
	}
	if sink := l.sinkOf(m.Token); sink != nil {
		sink.PostgresChange(m.IDs, m.Data)
	}
}

func (l *Layer) onSystem(from cluster.Member, payload []byte) {
	m, err := decodeSystem(payload)
	if err != nil {
		l.log.Warn("dropping malformed system message", "from", from.Name, "err", err)
		return
	}
	if sink := l.sinkOf(m.Token); sink != nil {
		sink.System(m.Status, m.Message)
	}
}

// onControl handles claims, releases, dones, resyncs, barriers and acks.
func (l *Layer) onControl(from cluster.Member, payload []byte) {
	m, err := decodeControl(payload)
	if err != nil {
		l.log.Warn("dropping malformed control message", "from", from.Name, "err", err)
		return
	}
	l.log.Debug("control", "from", from.Name, "epoch", from.Epoch, "op", m.Op, "tenant", m.Tenant, "n", m.N)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch m.Op {
	case opClaim:
		if l.claimants[m.Tenant] == nil {
			l.claimants[m.Tenant] = map[string]bool{}
		}
		l.claimants[m.Tenant][from.Name] = true
		l.reconcileTenantLocked(m.Tenant)
		l.sendControl(from.Name, opDone, m.Tenant, m.N) // after the registrations: links are ordered
		l.notify()                                      // a Flush waiting for a claimant
	case opRelease:
		if set := l.claimants[m.Tenant]; set != nil {
			delete(set, from.Name)
		}
		for _, s := range l.byTenant[m.Tenant] {
			delete(s.at, from.Name) // the owner dropped them itself
		}
		l.notify()
	case opDone:
		if cs := l.claims[m.Tenant]; cs != nil && cs.nonce == m.N {
			delete(cs.waiting, from.Name)
			l.notify()
		}
	case opResync:
		for _, s := range l.subs {
			delete(s.at, from.Name)
		}
		for id := range l.claimants {
			l.reconcileTenantLocked(id)
		}
		for id, cs := range l.claims {
			l.sendControl(from.Name, opClaim, id, cs.nonce)
		}
	case opBarrier:
		l.sendControl(from.Name, opAck, "", m.N)
	case opFlush:
		l.onFlush(from, m.Tenant, m.N)
	case opAck:
		if a := l.acks[m.N]; a != nil && a.peer == from.Name {
			a.release()
		}
	}
}
