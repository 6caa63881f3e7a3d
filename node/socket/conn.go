package socket

import (
	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// The methods below implement channel.Conn.

func (s *Socket) Version() phoenix.Version   { return s.vsn }
func (s *Socket) Send(f pubsub.Frame)        { s.q.push(f) }
func (s *Socket) Tenant() *tenant.Tenant     { return s.tenant }
func (s *Socket) KeySet() *auth.KeySet       { return s.keys }
func (s *Socket) TenantToken() string        { return s.token }
func (s *Socket) Headers() map[string]string { return s.headers }
func (s *Socket) ID() uint64                 { return s.id }

func (s *Socket) ChannelCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.channels)
}

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
	s.mu.Unlock()
	if first {
		s.deps.Users.Add(s.tenant.ExternalID, 1)
		s.opts.Metrics.Users.Inc()
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
	}
	s.mu.Unlock()
	if last {
		s.deps.Users.Add(s.tenant.ExternalID, -1)
		s.opts.Metrics.Users.Dec()
	}
}

var _ channel.Conn = (*Socket)(nil)
