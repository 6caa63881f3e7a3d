package cluster

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with jitter, so a whole cluster that lost its database
// (or a peer) does not reconnect in lockstep. Not safe for concurrent use.
type backoff struct {
	min, max time.Duration
	attempt  int
}

// delay returns the wait before retry number attempt (0-based) for jitter in [0,1): the
// exponential step scaled into [0.5, 1.0] of itself.
func (b *backoff) delay(attempt int, jitter float64) time.Duration {
	d := b.min
	for i := 0; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return time.Duration(float64(d) * (0.5 + jitter/2))
}

// next returns the next delay and advances.
func (b *backoff) next() time.Duration {
	d := b.delay(b.attempt, rand.Float64())
	b.attempt++
	return d
}

// reset starts over after a success.
func (b *backoff) reset() { b.attempt = 0 }

// sleepCtx waits d or until ctx ends; it reports whether the full wait happened.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
