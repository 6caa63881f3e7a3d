package cluster

import "sync"

// PeerEventKind says whether a peer came up or went down.
type PeerEventKind int

const (
	// PeerUp means an authenticated link to the peer is established (first time, after a repair, or
	// for a restarted peer with a new Epoch).
	PeerUp PeerEventKind = iota + 1
	// PeerDown means the link is gone and not (yet) replaced, or the peer restarted (new Epoch: a
	// PeerDown for the old epoch precedes the PeerUp for the new one).
	PeerDown
)

func (k PeerEventKind) String() string {
	switch k {
	case PeerUp:
		return "up"
	case PeerDown:
		return "down"
	}
	return "unknown"
}

// PeerEvent reports a change of a peer's link. Peer carries the epoch the event is about, so
// presence can call ReplicaDown/ReplicaUp with ReplicaID{Name, Epoch}.
type PeerEvent struct {
	Kind PeerEventKind
	Peer Member
}

// eventSub is one PeerEvents subscriber: an unbounded queue pumped into its channel, so a slow
// subscriber never blocks link handling and never loses an event.
type eventSub struct {
	mu      sync.Mutex
	pending []PeerEvent
	wake    chan struct{}
	out     chan PeerEvent
}

// eventHub fans events out to subscribers. Its methods are called with Mesh.mu held, so the
// order of events matches the order of link changes.
type eventHub struct {
	subs []*eventSub
}

func (h *eventHub) subscribe(initial []PeerEvent, done <-chan struct{}) <-chan PeerEvent {
	s := &eventSub{pending: initial, wake: make(chan struct{}, 1), out: make(chan PeerEvent, 16)}
	h.subs = append(h.subs, s)
	notify(s.wake)
	go s.pump(done)
	return s.out
}

func (h *eventHub) publish(ev PeerEvent) {
	for _, s := range h.subs {
		s.mu.Lock()
		s.pending = append(s.pending, ev)
		s.mu.Unlock()
		notify(s.wake)
	}
}

// pump delivers pending events in order until done (the mesh stopped), then closes out.
func (s *eventSub) pump(done <-chan struct{}) {
	defer close(s.out)
	for {
		select {
		case <-done:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch := s.pending
		s.pending = nil
		s.mu.Unlock()
		for _, ev := range batch {
			select {
			case s.out <- ev:
			case <-done:
				return
			}
		}
	}
}
