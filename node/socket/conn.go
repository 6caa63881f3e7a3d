package socket

import (
	"log/slog"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// The methods below implement channel.Conn.

// Version is the socket's protocol version.
func (s *Socket) Version() phoenix.Version { return s.vsn }

// Send queues a frame for the client (or the long-poll session); it never blocks.
func (s *Socket) Send(f pubsub.Frame) {
	if s.lp != nil {
		s.lp.push(s, f)
		return
	}
	s.q.push(f)
}

// Tenant is the tenant the socket connected to.
func (s *Socket) Tenant() *tenant.Tenant { return s.tenant }

// KeySet verifies the tenant's tokens.
func (s *Socket) KeySet() *auth.KeySet { return s.keys }

// TenantToken is the token given at connect.
func (s *Socket) TenantToken() string { return s.token }

// Headers are the x-* headers of the upgrade request (RLS request.headers).
func (s *Socket) Headers() map[string]string { return s.headers }

// ID identifies the socket within the node.
func (s *Socket) ID() uint64 { return s.id }

// Logger is the socket's logger (its log_level applied).
func (s *Socket) Logger() *slog.Logger { return s.log }

// ChannelCount is the number of channels joined on the socket.
func (s *Socket) ChannelCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.channels)
}

// CountedAsUser reports whether the socket counts as a connected user (a channel joined).
func (s *Socket) CountedAsUser() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counted
}

// Joined registers a channel; the socket starts counting as a connected user at its first join.
func (s *Socket) Joined(ch *channel.Channel) {
	s.mu.Lock()
	s.channels[ch.Wire] = ch
	s.joined++
	first := !s.counted
	s.counted = true
	if s.reaper != nil {
		s.reaper.Stop()
	}
	closed := s.closed
	s.mu.Unlock()
	if first {
		s.deps.Users.Add(s.tenant.ExternalID, 1)
		s.opts.Metrics.Users.Inc()
		s.tm.users.Inc()
	}
	if closed {
		// The socket was cleaned up while this join ran (a long-poll POST racing the session's
		// end): nothing would ever drop the channel, so it ends now.
		ch.Drop()
	}
}

// Left unregisters a channel; a socket with no channel left stops counting as a user.
func (s *Socket) Left(ch *channel.Channel) {
	s.mu.Lock()
	if s.channels[ch.Wire] == ch {
		delete(s.channels, ch.Wire)
	}
	s.joined--
	last := s.joined == 0 && s.counted
	if last {
		s.counted = false
		s.armReaperLocked()
	}
	s.mu.Unlock()
	if last {
		s.deps.Users.Add(s.tenant.ExternalID, -1)
		s.opts.Metrics.Users.Dec()
		s.tm.users.Dec()
	}
}

var _ channel.Conn = (*Socket)(nil)

// armReaperLocked starts the zero-channel timer: upstream's RealtimeChannel.Tracker
// (lib/realtime_web/channels/realtime_channel/tracker.ex) kills, every NO_CHANNEL_TIMEOUT_IN_MS,
// the transports that joined channels and have none left. Here each socket closes itself once it
// has had no channel for that long, which is at least as long as upstream waits. Sockets that never
// joined are not reaped (the idle timeout covers them). Callers hold s.mu.
func (s *Socket) armReaperLocked() {
	if s.closed {
		return
	}
	d := s.opts.NoChannelTimeout
	if d <= 0 {
		d = DefaultNoChannelTimeout
	}
	if s.reaper != nil {
		s.reaper.Reset(d)
		return
	}
	s.reaper = time.AfterFunc(d, s.reap)
}

func (s *Socket) reap() {
	s.mu.Lock()
	idle := len(s.channels) == 0 && !s.closed
	s.mu.Unlock()
	if idle {
		s.log.Info("closing socket without channels", "code", "NoChannels")
		s.Close(websocket.StatusNormalClosure, "no channels")
	}
}

// DefaultNoChannelTimeout is upstream's NO_CHANNEL_TIMEOUT_IN_MS default.
const DefaultNoChannelTimeout = 10 * time.Minute
