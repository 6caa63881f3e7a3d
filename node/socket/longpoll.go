package socket

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
)

// A long-poll session is a Socket without a WebSocket (Phoenix LongPoll protocol, as
// Phoenix.Transports.LongPoll and LongPoll.Server implement it): frames for the client wait in a
// bounded buffer until it polls (GET), and its messages arrive in POST bodies. Everything else
// (routing, channels, limits, reaper) is the WebSocket socket's code. Only text frames travel:
// a V2 kind-4 broadcast is sent in its JSON text form, and one with a binary payload, which has no
// text form, is dropped (upstream's long poll carries V1/V2 JSON only, docs/protocol.md#http-routes).

// pollBuffer holds a session's outbound text frames.
type pollBuffer struct {
	mu       sync.Mutex
	msgs     [][]byte
	bytes    int
	wake     chan struct{} // closed (and replaced) when frames arrive or the session ends
	ended    bool
	lastPoll time.Time
	polled   chan struct{} // a poll arrived (keeps the session alive)
}

// NewLongPoll creates a long-poll session for an admitted request; ServeLongPoll runs it.
func NewLongPoll(p Params, deps *channel.Deps, opts *Options) *Socket {
	s := &Socket{
		id: socketIDs.Add(1), opts: opts, deps: deps, vsn: p.Version, tenant: p.Tenant, keys: p.KeySet,
		token: p.Token, headers: p.Headers, channels: map[string]*channel.Channel{},
		lp: &pollBuffer{wake: make(chan struct{}), polled: make(chan struct{}, 1), lastPoll: time.Now()},
	}
	s.q.s = s
	s.tm = opts.Metrics.forTenant(p.Tenant.ExternalID)
	s.log = withMinLevel(opts.Log, p.LogLevel, p.LogLevelSet).With("tenant", p.Tenant.ExternalID, "socket", s.id, "transport", "longpoll")
	return s
}

// ServeLongPoll owns the session until it ends: closed by the node, no poll for inactive (upstream
// LongPoll.Server: 1.5 x window_ms), or ctx done. Then its channels end as on a WebSocket close.
func (s *Socket) ServeLongPoll(ctx context.Context, inactive time.Duration) {
	m := s.opts.Metrics
	m.Connected.Inc()
	defer m.Connected.Dec()
	timer := time.NewTimer(inactive)
	defer timer.Stop()
	for {
		s.lp.mu.Lock()
		wake, ended := s.lp.wake, s.lp.ended
		s.lp.mu.Unlock()
		if ended {
			break
		}
		select {
		case <-ctx.Done():
			s.lp.end()
		case <-wake:
		case <-s.lp.polled:
			timer.Reset(inactive)
		case <-timer.C:
			s.log.Debug("long-poll session inactive, closing")
			s.lp.end()
		}
	}
	s.cleanup()
}

// Poll waits up to window for frames and takes them. gone is true when the session has ended and
// nothing is left to deliver (the client gets status 410 and reconnects).
func (s *Socket) Poll(ctx context.Context, window time.Duration) (msgs [][]byte, gone bool) {
	select {
	case s.lp.polled <- struct{}{}:
	default:
	}
	timer := time.NewTimer(window)
	defer timer.Stop()
	for {
		b := s.lp
		b.mu.Lock()
		b.lastPoll = time.Now()
		if len(b.msgs) > 0 {
			msgs, b.msgs, b.bytes = b.msgs, nil, 0
			b.mu.Unlock()
			return msgs, false
		}
		if b.ended {
			b.mu.Unlock()
			return nil, true
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-timer.C:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
}

// Dispatch handles one client message of a POST body, as the WebSocket read loop handles a frame.
// Callers serialise Dispatch per session (the read loop is sequential too).
func (s *Socket) Dispatch(data []byte, binary bool) {
	s.opts.Metrics.InputBytes.Add(float64(len(data)))
	s.tm.in.Add(float64(len(data)))
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	s.handleFrame(typ, data)
}

// Ended reports whether the session has ended.
func (s *Socket) Ended() bool {
	s.lp.mu.Lock()
	defer s.lp.mu.Unlock()
	return s.lp.ended
}

func (b *pollBuffer) push(s *Socket, f pubsub.Frame) {
	data := f.Data
	if f.Binary {
		var ok bool
		if data, ok = textForm(s.vsn, data); !ok {
			s.log.Debug("binary frame not sent over long poll")
			return
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	o := s.opts
	if len(b.msgs) >= o.QueueFrames || b.bytes+len(data) > o.QueueBytes {
		b.msgs, b.bytes = nil, 0
		o.Metrics.SlowConsumers.Inc()
		s.log.Warn("slow consumer disconnected", "code", "SlowConsumer", "transport", "longpoll")
		b.endLocked()
		return
	}
	b.msgs = append(b.msgs, data)
	b.bytes += len(data)
	o.Metrics.OutputBytes.Add(float64(len(data)))
	s.tm.out.Add(float64(len(data)))
	close(b.wake)
	b.wake = make(chan struct{})
}

func (b *pollBuffer) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endLocked()
}

func (b *pollBuffer) endLocked() {
	if b.ended {
		return
	}
	b.ended = true
	close(b.wake)
	b.wake = make(chan struct{})
}

// textForm re-encodes a V2 kind-4 user broadcast as the JSON text frame a V2 client also
// understands; ok is false for binary payloads and anything else.
func textForm(v phoenix.Version, data []byte) ([]byte, bool) {
	topic, u, err := phoenix.DecodeUserBroadcast(data)
	if err != nil {
		return nil, false
	}
	payload, ok := phoenix.UserBroadcastJSON(u)
	if !ok {
		return nil, false
	}
	return phoenix.EncodeText(v, nil, nil, topic, phoenix.EventBroadcast, payload), true
}
