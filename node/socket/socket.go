// Package socket runs one WebSocket connection: the read loop, routing of decoded frames to
// channels, heartbeats, the bounded outbound queue with slow-consumer disconnect, and cleanup.
package socket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// Options are the per-node socket settings.
type Options struct {
	MaxFrameBytes int64         // incoming frame limit (5,000,000)
	IdleTimeout   time.Duration // close after this long without a client frame (60 s)
	QueueFrames   int           // outbound queue bound in frames
	QueueBytes    int           // outbound queue bound in bytes
	WriteTimeout  time.Duration // a network write slower than this disconnects the client
	ErrorBackoff  time.Duration // delay before a join error reply
	// NoChannelTimeout closes a socket that has had no channel for this long after its channels
	// ended (NO_CHANNEL_TIMEOUT_IN_MS, default 10 min).
	NoChannelTimeout time.Duration
	Metrics          *Metrics
	Log              *slog.Logger
}

// Socket is one client connection.
type Socket struct {
	id      uint64
	opts    *Options
	deps    *channel.Deps
	ws      *websocket.Conn
	bw      *batchWriter
	vsn     phoenix.Version
	tenant  *tenant.Tenant
	keys    *auth.KeySet
	token   string
	headers map[string]string
	log     *slog.Logger
	idle    *time.Timer

	mu       sync.Mutex
	channels map[string]*channel.Channel
	joined   int
	counted  bool
	reaper   *time.Timer // armed while a socket that had channels has none
	closed   bool

	q outQueue
	// lp is set instead of ws for a long-poll session (longpoll.go).
	lp *pollBuffer
	// tm are the socket's per-tenant metric series.
	tm tenantSeries
}

var socketIDs atomic.Uint64

// Params are what the HTTP layer established before the upgrade.
type Params struct {
	Version phoenix.Version
	Tenant  *tenant.Tenant
	KeySet  *auth.KeySet
	Token   string
	Headers map[string]string
	// LogLevel is the connection's log_level (LogLevelSet false: the node's level applies).
	LogLevel    slog.Level
	LogLevelSet bool
}

// Accept upgrades the request and returns the socket, ready to Serve.
func Accept(w http.ResponseWriter, r *http.Request, p Params, deps *channel.Deps, opts *Options) (*Socket, error) {
	bw := &batchWriter{timeout: opts.WriteTimeout}
	ws, err := websocket.Accept(hijacker{ResponseWriter: w, bw: bw}, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // check_origin is off upstream: any web origin may connect
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(opts.MaxFrameBytes)
	s := &Socket{
		id: socketIDs.Add(1), opts: opts, deps: deps, ws: ws, bw: bw, vsn: p.Version, tenant: p.Tenant,
		keys: p.KeySet, token: p.Token, headers: p.Headers, channels: map[string]*channel.Channel{},
	}
	s.log = withMinLevel(opts.Log, p.LogLevel, p.LogLevelSet).With("tenant", p.Tenant.ExternalID, "socket", s.id)
	s.q.s = s
	s.tm = opts.Metrics.forTenant(p.Tenant.ExternalID)
	return s, nil
}

// Serve runs the read loop until the connection ends or ctx is cancelled.
func (s *Socket) Serve(ctx context.Context) {
	m := s.opts.Metrics
	m.Connected.Inc()
	defer m.Connected.Dec()
	s.idle = time.AfterFunc(s.opts.IdleTimeout, func() { s.Close(websocket.StatusNormalClosure, "idle timeout") })
	defer s.idle.Stop()
	stop := context.AfterFunc(ctx, func() { s.Close(websocket.StatusServiceRestart, "server shutting down") })
	defer stop()
	for {
		// The loop goroutine only waits; reading and handling run on a helper (reads.go).
		if err := s.bw.waitReadable(); err != nil {
			s.log.Debug("socket wait ended", "err", err)
			break
		}
		if err := s.readBuffered(); err != nil {
			s.logReadError(err)
			break
		}
	}
	s.cleanup()
}

func (s *Socket) logReadError(err error) {
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		s.log.Info("frame too large, closing", "code", "MalformedWebSocketMessage")
	case websocket.CloseStatus(err) != -1:
	default:
		s.log.Debug("socket read ended", "err", err)
	}
}

func (s *Socket) handleFrame(typ websocket.MessageType, data []byte) {
	var msg phoenix.Message
	var err error
	switch {
	case typ == websocket.MessageBinary && s.vsn == phoenix.V2:
		msg, err = phoenix.DecodeBinary(data)
	case typ == websocket.MessageBinary:
		err = phoenix.ErrUnknownKind
	default:
		msg, err = phoenix.DecodeText(s.vsn, data)
	}
	if err != nil {
		// Malformed frames are logged and dropped; the connection stays open (docs/protocol.md#socket-lifecycle).
		s.opts.Metrics.Malformed.Inc()
		s.log.Info("malformed websocket message", "code", "MalformedWebSocketMessage", "err", err)
		return
	}
	s.route(msg)
}

// route dispatches a decoded message (docs/protocol.md#control-events).
func (s *Socket) route(msg phoenix.Message) {
	if msg.Topic == phoenix.TopicPhoenix && msg.Event == phoenix.EventHeartbeat {
		s.replyTo(msg, nil, "ok", nil)
		return
	}
	switch msg.Event {
	case phoenix.EventJoin:
		s.join(msg)
	case phoenix.EventLeave:
		ch := s.channel(msg.Topic)
		s.replyTo(msg, msg.JoinRef, "ok", nil)
		if ch != nil {
			ch.Stop()
		}
	default:
		if ch := s.channel(msg.Topic); ch != nil {
			handleIn(ch, msg)
			return
		}
		s.replyTo(msg, nil, "error", phoenix.ErrorReason("unmatched topic"))
	}
}

func (s *Socket) join(msg phoenix.Message) {
	sub, ok := pubsub.SubTopic(msg.Topic)
	if !ok {
		s.replyTo(msg, nil, "error", phoenix.ErrorReason("unmatched topic"))
		return
	}
	old := s.channel(msg.Topic)
	if old != nil {
		old.Stop() // phx_close for the old join_ref, then the new join (docs/protocol.md#control-events)
	}
	if rej := s.safeJoin(msg, sub); rej != nil {
		s.deps.Metrics.JoinResults.WithLabelValues("error").Inc()
		channel.CountRejection(s.deps, s, sub, rej)
		s.rejectLater(msg, rej)
	}
}

// handleIn runs a channel's handler; a panic ends that channel with phx_error (docs/protocol.md#control-events) and
// leaves the socket and its other channels running.
func handleIn(ch *channel.Channel, msg phoenix.Message) {
	defer func() {
		if v := recover(); v != nil {
			ch.Crash(v)
		}
	}()
	ch.HandleIn(msg)
}

// safeJoin runs the join pipeline; a panic refuses the join with upstream's
// "UnknownErrorOnChannel: <message>" (realtime_channel.ex join/3, rescue clause).
func (s *Socket) safeJoin(msg phoenix.Message, sub string) (rej *channel.Rejection) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("join crashed", "code", "UnknownErrorOnChannel", "topic", sub, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			rej = &channel.Rejection{Reason: "UnknownErrorOnChannel: " + fmt.Sprint(v)}
		}
	}()
	_, rej = channel.Join(s.deps, s, msg, sub)
	return rej
}

// rejectLater answers a refused join after CHANNEL_ERROR_BACKOFF_MS without holding up the read
// loop. Upstream (realtime_channel.ex, join_error/1) sleeps in the join and so stalls the whole
// socket: with the default 5 s, a client whose joins keep being refused (maxChannelsPerClient)
// gets its replies later than realtime-js's 10 s join timeout, realtime-js sends phx_leave and
// rejoins, and the late reply carries a ref it no longer waits for: every further join looked
// unanswered. Here each refusal is delayed on its own, so every join gets its error reply while
// heartbeats and other channels carry on. The joins-per-second limiter still bounds how many
// refusals can be pending (it closes the socket), and Send on a closed socket is a no-op.
func (s *Socket) rejectLater(msg phoenix.Message, rej *channel.Rejection) {
	respond := func() {
		s.replyTo(msg, msg.JoinRef, "error", phoenix.ErrorReason(rej.Reason))
		if rej.CloseCode != 0 {
			s.Close(rej.CloseCode, rej.Reason)
		}
	}
	if s.opts.ErrorBackoff <= 0 {
		respond()
		return
	}
	time.AfterFunc(s.opts.ErrorBackoff, respond)
}

func (s *Socket) replyTo(msg phoenix.Message, joinRef []byte, status string, response []byte) {
	s.Send(pubsub.Frame{Data: phoenix.EncodeReply(s.vsn, joinRef, msg.Ref, msg.Topic, status, response)})
}

func (s *Socket) channel(topic string) *channel.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channels[topic]
}

// cleanup ends every channel (presence leaves, unsubscribe) once the connection is gone.
func (s *Socket) cleanup() {
	s.q.close()
	s.mu.Lock()
	s.closed = true
	if s.reaper != nil {
		s.reaper.Stop()
	}
	chans := make([]*channel.Channel, 0, len(s.channels))
	for _, ch := range s.channels {
		chans = append(chans, ch)
	}
	s.mu.Unlock()
	for _, ch := range chans {
		ch.Drop()
	}
	if s.lp != nil {
		s.lp.end()
		return
	}
	_ = s.ws.CloseNow()
}

// Close closes the connection with code; the read loop then cleans up.
func (s *Socket) Close(code websocket.StatusCode, reason string) {
	if s.lp != nil {
		s.lp.end() // the session's owner goroutine cleans up; the next poll answers 410
		return
	}
	go func() {
		// Let queued frames (error replies, system messages) reach the client first.
		s.q.waitDrained(time.Second)
		_ = s.ws.Close(code, reason)
	}()
}

// Channels returns the live channels (for tenant-wide notices).
func (s *Socket) Channels() []*channel.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*channel.Channel, 0, len(s.channels))
	for _, ch := range s.channels {
		out = append(out, ch)
	}
	return out
}
