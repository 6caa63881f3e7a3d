package changes

import (
	"context"
	"errors"
)

// ErrNotStreaming means Flush was asked of a node that does not stream the tenant.
var ErrNotStreaming = errors.New("changes: this node does not stream the tenant")

// Flush returns once this node's stream of the tenant has handed every change committed before
// the call to its subscribers (the node's channels and the peers' proxies, in stream order).
// A draining node closes a client's socket only after it: the close then never cuts off a change
// committed while the client was subscribed. It uses the readiness marker of Subscribe (a
// non-transactional logical message, or the current WAL position) and waits for the stream to
// pass it; it returns ErrNotStreaming when no stream of the tenant runs here.
func (s *Service) Flush(ctx context.Context, externalID string) error {
	s.mu.Lock()
	ts := s.tenants[externalID]
	if ts == nil || ts.worker == nil {
		s.mu.Unlock()
		return ErrNotStreaming
	}
	t, reg := ts.t, ts.reg
	s.mu.Unlock()
	done := make(chan struct{})
	token, err := s.mark(ctx, t, reg, "flush-", func() { close(done) })
	defer reg.ready.remove(token)
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
