package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Handler receives one message from a peer, on that peer's reader goroutine, in the order the
// peer sent it. It must not block for long: a slow handler stalls the link and the sender's
// queue then drops. payload is the handler's to keep.
type Handler func(from Member, payload []byte)

// Mesh keeps one authenticated, ordered link to every other node and moves typed messages over
// them. Links are dialed by the node with the lower name (for DNS members, whose names are only
// learned in the handshake, both sides may dial once; the lower name's link is kept).
type Mesh struct {
	self     Member
	secret   []byte
	disc     Discovery
	opts     Options
	log      *slog.Logger
	met      *meshMetrics
	handlers [256]Handler
	running  atomic.Bool

	mu        sync.Mutex
	peers     map[string]*peerState // by name
	addrNames map[string]string     // addr -> name learned in handshakes
	selfAddrs map[string]bool       // addresses that turned out to be us
	dialers   map[string]bool       // addrs with a running dial loop
	events    eventHub
	stopping  bool

	peerMap atomic.Pointer[map[string]*peerState] // copy-on-write view of peers for Send
	router  atomic.Pointer[Router]
	done    chan struct{} // closed when Run returns
	wg      sync.WaitGroup
}

// peerState outlives links: its queue keeps messages across a reconnect.
type peerState struct {
	member Member
	q      *sendQueue
	link   *link // nil while down
	everUp bool
	downAt time.Time
}

// NewMesh creates the mesh of self; register handlers, then call Run. reg may be nil. The secret
// must be the same on every node and should be at least 32 random bytes.
func NewMesh(self Member, secret []byte, disc Discovery, opts Options, log *slog.Logger, reg prometheus.Registerer) *Mesh {
	opts.defaults()
	m := &Mesh{
		self: self, secret: slices.Clone(secret), disc: disc, opts: opts,
		log:       log.With("component", "cluster.mesh", "node", self.Name),
		peers:     make(map[string]*peerState),
		addrNames: make(map[string]string),
		selfAddrs: make(map[string]bool),
		dialers:   make(map[string]bool),
		done:      make(chan struct{}),
	}
	m.met = newMeshMetrics(m, reg)
	m.peerMap.Store(&map[string]*peerState{})
	m.router.Store(NewRouter(self, nil))
	return m
}

// Self returns this node's identity.
func (m *Mesh) Self() Member { return m.self }

// Handle registers fn for messages of typ (>= FirstUserType). Call before Run.
func (m *Mesh) Handle(typ byte, fn Handler) {
	if typ < FirstUserType {
		panic(fmt.Sprintf("cluster: message type %d is reserved for the mesh", typ))
	}
	if m.running.Load() {
		panic("cluster: Handle called after Run")
	}
	if m.handlers[typ] != nil {
		panic(fmt.Sprintf("cluster: message type %d already has a handler", typ))
	}
	m.handlers[typ] = fn
}

// Send enqueues payload for peer and returns at once; false means it was dropped (unknown peer,
// or its queue is full). A peer whose link is down but which is still known keeps queueing, and
// the queue is flushed when the link is repaired. The payload is not copied: do not modify it
// after Send; the same slice may be sent to several peers.
func (m *Mesh) Send(peer string, typ byte, payload []byte) bool {
	if typ < FirstUserType {
		return false
	}
	p := (*m.peerMap.Load())[peer]
	if p == nil {
		m.met.droppedPeer.Inc()
		return false
	}
	if !p.q.push(typ, payload) {
		m.met.droppedFull.Inc()
		return false
	}
	return true
}

// Peers returns the peers with an authenticated link, sorted by name.
func (m *Mesh) Peers() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.livePeersLocked()
}

// Router returns the routing snapshot for the current live peers.
func (m *Mesh) Router() *Router { return m.router.Load() }

// PeerEvents returns a new subscription to link ups and downs. It starts with a PeerUp for
// every peer connected at the time of the call, then reports changes in order; it never drops
// events and never blocks the mesh. The channel closes when Run returns.
func (m *Mesh) PeerEvents() <-chan PeerEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	var initial []PeerEvent
	for _, p := range m.livePeersLocked() {
		initial = append(initial, PeerEvent{Kind: PeerUp, Peer: p})
	}
	return m.events.subscribe(initial, m.done)
}

// Run listens for and dials links until ctx ends, then closes every link and returns. Run the
// Discovery's own Run alongside: the mesh only reads it.
func (m *Mesh) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("cluster: mesh already running")
	}
	defer close(m.done)
	if (m.opts.ServerTLS == nil) != (m.opts.ClientTLS == nil) {
		return errors.New("cluster: set both ServerTLS and ClientTLS, or neither")
	}
	ln, err := m.listen()
	if err != nil {
		return err
	}
	m.log.Info("cluster mesh listening", "addr", ln.Addr().String(), "region", m.self.Region,
		"tls", m.opts.ServerTLS != nil)
	m.spawn(func() { m.acceptLoop(ctx, ln) })
	m.spawn(func() { m.reconcileLoop(ctx) })
	<-ctx.Done()
	_ = ln.Close()
	m.mu.Lock()
	m.stopping = true
	for _, p := range m.peers {
		if p.link != nil {
			p.link.close()
		}
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

func (m *Mesh) listen() (net.Listener, error) {
	if m.opts.Listener != nil {
		return m.opts.Listener, nil
	}
	addr := m.opts.ListenAddr
	if addr == "" {
		addr = m.self.Addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: listen %s: %w", addr, err)
	}
	return ln, nil
}

// spawn runs f as a goroutine that Run waits for.
func (m *Mesh) spawn(f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
}

// dispatch hands a received frame to its handler.
func (m *Mesh) dispatch(from Member, typ byte, payload []byte) {
	h := m.handlers[typ]
	if h == nil {
		return // a newer peer's message type this node does not know: ignore, keep the link
	}
	m.met.received.Inc()
	h(from, payload)
}
