package authz

import (
	"errors"
	"sync"
	"time"
)

// PoolGuard implements the IncreaseConnectionPool rule of docs/protocol.md#private-channels: when at least Size checkout
// failures (KindPoolExhausted) happen within Window, the tenant is flagged and further checks fail
// fast, without queueing on a pool that is already too small, until those failures age out.
// One PoolGuard per tenant pool; safe for concurrent use.
type PoolGuard struct {
	Size   int           // the tenant's pool size
	Window time.Duration // 30s when zero

	mu    sync.Mutex
	times []time.Time
	now   func() time.Time // tests
}

// Check returns a KindPoolExhausted error when the tenant is flagged.
func (g *PoolGuard) Check() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked()
	if g.Size > 0 && len(g.times) >= g.Size {
		return &Error{Kind: KindPoolExhausted, Err: errors.New("too many connection checkout timeouts recently")}
	}
	return nil
}

// Observe records the outcome of a check; only pool exhaustion counts. It reports whether this
// outcome flagged the tenant (upstream logs IncreaseConnectionPool then, once).
func (g *PoolGuard) Observe(err error) (flagged bool) {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindPoolExhausted {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked()
	g.times = append(g.times, g.clock())
	return g.Size > 0 && len(g.times) == g.Size
}

func (g *PoolGuard) pruneLocked() {
	w := g.Window
	if w <= 0 {
		w = 30 * time.Second
	}
	cut := g.clock().Add(-w)
	i := 0
	for i < len(g.times) && !g.times[i].After(cut) {
		i++
	}
	g.times = g.times[i:]
}

func (g *PoolGuard) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}
