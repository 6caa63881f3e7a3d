package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/tenant"
)

// hostKey names a registration held here: the node hosting the channel (with its process
// epoch, so a restarted node's leftovers are told apart) and that node's token.
type hostKey struct {
	node  string
	epoch int64
	token uint64
}

// hosted is a registration this node runs through its changes.Service.
type hosted struct {
	key     hostKey
	tenant  string
	unsub   func()
	settled atomic.Bool // validated (in the registry) or failed: the stream gate need not wait
}

// claimState is a tenant this node streams; waiting holds the peers whose Done is still due.
type claimState struct {
	nonce   uint64
	waiting map[string]bool
}

// ackWait is a barrier sent to a peer, released by its ack or by the peer going down.
type ackWait struct {
	peer string
	ch   chan struct{}
	once sync.Once
}

func (a *ackWait) release() { a.once.Do(func() { close(a.ch) }) }

// expectAckLocked registers a wait for peer's opAck with a new sequence number (a barrier's or a
// flush's); forgetAcks drops the waits when the caller is done with them.
func (l *Layer) expectAckLocked(peer string) (uint64, *ackWait) {
	l.nextSeq++
	a := &ackWait{peer: peer, ch: make(chan struct{})}
	l.acks[l.nextSeq] = a
	return l.nextSeq, a
}

func (l *Layer) forgetAcks(seqs []uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range seqs {
		delete(l.acks, s)
	}
}

// settle marks a registration validated or failed. It is called from inside changes.Service
// (under the subscription's lock), so it must not take l.mu.
func (l *Layer) settle(h *hosted) {
	if h.settled.CompareAndSwap(false, true) {
		l.notify()
	}
}

func (l *Layer) onRegister(from cluster.Member, payload []byte) {
	m, err := decodeReg(payload)
	if err != nil {
		l.log.Warn("dropping malformed registration", "from", from.Name, "err", err)
		return
	}
	key := hostKey{node: from.Name, epoch: from.Epoch, token: m.Token}
	l.log.Debug("registration", "from", from.Name, "epoch", from.Epoch, "tenant", m.Tenant, "token", m.Token)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hosted[key] != nil || l.ctx.Err() != nil {
		return // already registered (a claim and a resync may both ask for it)
	}
	t, ok := l.cfg.Tenants(m.Tenant)
	if !ok {
		l.send(from.Name, cluster.TypeChangeSystem, system{Token: m.Token, Status: "error", Message: "Tenant not found on the WAL owner"}.encode())
		return
	}
	var claims map[string]any
	if err := json.Unmarshal(m.Claims, &claims); err != nil {
		l.log.Warn("dropping registration with malformed claims", "from", from.Name, "err", err)
		return
	}
	bindings, err := changes.ParseBindings(m.Bindings)
	if err != nil || len(bindings) == 0 {
		l.log.Warn("dropping registration with malformed bindings", "from", from.Name, "err", err)
		return
	}
	h := &hosted{key: key, tenant: m.Tenant}
	l.hosted[key] = h
	h.unsub = l.svc.Subscribe(l.ctx, t, claims, bindings, &proxy{l: l, h: h, peer: from.Name})
}

func (l *Layer) onUnreg(from cluster.Member, payload []byte) {
	token, err := decodeToken(payload)
	if err != nil {
		l.log.Warn("dropping malformed unregistration", "from", from.Name, "err", err)
		return
	}
	key := hostKey{node: from.Name, epoch: from.Epoch, token: token}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h := l.hosted[key]; h != nil {
		h.unsub()
		delete(l.hosted, key)
		l.notify()
	}
}

// proxy is the Subscriber of a registration from another node: it forwards to that node.
type proxy struct {
	l    *Layer
	h    *hosted
	peer string
}

func (p *proxy) PostgresChange(ids []int64, data json.RawMessage) {
	ok := p.l.send(p.peer, cluster.TypeChange, encodeChange(p.h.key.token, ids, data))
	p.l.markSent(p.h.tenant, p.peer, ok)
}

func (p *proxy) System(status, message string) {
	p.l.send(p.peer, cluster.TypeChangeSystem, system{Token: p.h.key.token, Status: status, Message: message}.encode())
	if status == "error" {
		p.l.settle(p.h)
	}
}

func (p *proxy) Registered() { p.l.settle(p.h) }

func (l *Layer) markSent(tenantID, peer string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.dirty[tenantID]
	if d == nil {
		d = map[string]bool{}
		l.dirty[tenantID] = d
	}
	d[peer] = d[peer] || !ok
}

// gate is the changes.StreamGate: claim the tenant, collect every node's registrations, then
// let the stream start.
func (l *Layer) gate(ctx context.Context, t *tenant.Tenant) (func(), error) {
	id := t.ExternalID
	l.mu.Lock()
	l.nextNonce++
	cs := &claimState{nonce: l.nextNonce, waiting: map[string]bool{}}
	l.claims[id] = cs
	if l.claimants[id] == nil {
		l.claimants[id] = map[string]bool{}
	}
	l.claimants[id][l.self.Name] = true
	l.reconcileTenantLocked(id)
	for _, p := range l.mesh.Peers() {
		if l.sendControl(p.Name, opClaim, id, cs.nonce) {
			cs.waiting[p.Name] = true
		}
	}
	asked := len(cs.waiting)
	l.mu.Unlock()
	l.notify() // a Flush waiting for a claimant
	start := time.Now()
	if err := l.waitClaim(ctx, id, cs); err != nil {
		l.release(id, cs)
		return nil, err
	}
	l.log.Info("claimed tenant WAL", "tenant", id, "peers_asked", asked, "waited", time.Since(start).Round(time.Millisecond))
	return func() { l.release(id, cs) }, nil
}

// waitClaim waits until every peer answered the claim and every registration of the tenant is
// settled, or ClaimTimeout passes (the stream then starts anyway: a silent peer must not stop it).
func (l *Layer) waitClaim(ctx context.Context, id string, cs *claimState) error {
	timeout := time.NewTimer(l.cfg.ClaimTimeout)
	defer timeout.Stop()
	for {
		wake := l.wakeCh() // before reading the state: a change after the read closes it
		l.mu.Lock()
		pending := len(cs.waiting)
		for _, h := range l.hosted {
			if h.tenant == id && !h.settled.Load() {
				pending++
			}
		}
		l.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			l.log.Warn("starting tenant stream before every node registered", "tenant", id, "pending", pending)
			return nil
		case <-wake:
		}
	}
}

// release ends a claim after the stream stopped: the registrations move to the next owner.
func (l *Layer) release(id string, cs *claimState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.claims[id] != cs {
		return // a newer stream of the same tenant claimed it meanwhile
	}
	delete(l.claims, id)
	delete(l.dirty, id)
	if set := l.claimants[id]; set != nil {
		delete(set, l.self.Name)
	}
	l.reconcileTenantLocked(id)
	for k, h := range l.hosted {
		if h.tenant == id && k.node != l.self.Name {
			h.unsub()
			delete(l.hosted, k)
		}
	}
	for _, p := range l.mesh.Peers() {
		l.sendControl(p.Name, opRelease, id, 0)
	}
	l.notify()
}

// barrier is the changes.Barrier: wait until every peer that got changes of the batch acked.
func (l *Layer) barrier(ctx context.Context, id string) error {
	l.mu.Lock()
	sent := l.dirty[id]
	delete(l.dirty, id)
	if len(sent) == 0 {
		l.mu.Unlock()
		return nil
	}
	live := map[string]bool{}
	for _, p := range l.mesh.Peers() {
		live[p.Name] = true
	}
	var waits []*ackWait
	var seqs []uint64
	var err error
	for peer, failed := range sent {
		if !live[peer] {
			continue // gone: its channels went with it
		}
		if failed {
			err = fmt.Errorf("a change for node %s could not be queued", peer)
			break
		}
		seq, a := l.expectAckLocked(peer)
		waits, seqs = append(waits, a), append(seqs, seq)
		if !l.sendControl(peer, opBarrier, id, seq) {
			err = fmt.Errorf("barrier for node %s could not be queued", peer)
			break
		}
	}
	l.mu.Unlock()
	defer l.forgetAcks(seqs)
	if err != nil {
		return err
	}
	return l.awaitAcks(ctx, waits)
}

func (l *Layer) awaitAcks(ctx context.Context, waits []*ackWait) error {
	timeout := time.NewTimer(l.cfg.BarrierTimeout)
	defer timeout.Stop()
	for _, a := range waits {
		select {
		case <-a.ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			return fmt.Errorf("node %s did not acknowledge changes within %s", a.peer, l.cfg.BarrierTimeout)
		}
	}
	return nil
}
