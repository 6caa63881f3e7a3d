// Package limiter implements Supabase Realtime's rate counters (docs/protocol.md#limits): counts collected over 5 s
// ticks into at most 12 buckets, averaged per second, with a "triggered" flag updated at each tick,
// and the fixed-window per-channel presence limiter. Pure logic; the owner drives Tick.
package limiter

import (
	"sync"
	"sync/atomic"
)

// TickSeconds is the bucket width of a rate counter.
const TickSeconds = 5

// MaxBuckets bounds the averaging window to 60 s.
const MaxBuckets = 12

// Counter is a rolling-average event counter. Add and Triggered are lock-free (both run once per
// delivery, from every publisher of the tenant at once); Tick and Average take a mutex.
type Counter struct {
	pending   atomic.Int64
	triggered atomic.Bool

	mu      sync.Mutex
	buckets []int64
	avg     float64
}

// Add counts n events in the current bucket.
func (c *Counter) Add(n int64) { c.pending.Add(n) }

// Tick closes the current bucket and re-evaluates the average against limit (events per second).
func (c *Counter) Tick(limit int) {
	n := c.pending.Swap(0)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buckets = append(c.buckets, n)
	if len(c.buckets) > MaxBuckets {
		c.buckets = c.buckets[len(c.buckets)-MaxBuckets:]
	}
	var sum int64
	for _, b := range c.buckets {
		sum += b
	}
	c.avg = float64(sum) / float64(len(c.buckets)) / TickSeconds
	c.triggered.Store(limit > 0 && c.avg >= float64(limit))
}

// Triggered reports whether the average reached the limit at the last tick.
func (c *Counter) Triggered() bool { return c.triggered.Load() }

// Average is the events-per-second average as of the last tick.
func (c *Counter) Average() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.avg
}

// Window is the fixed-window per-channel limiter of docs/protocol.md#presence-events: at most max calls per window; the
// window starts at the first call, a call after its end starts a new window with count 1.
type Window struct {
	start int64 // unix ms of the window start; 0 = no window yet
	count int
}

// Allow counts one call at nowMS and reports whether it is within the limit.
func (w *Window) Allow(nowMS int64, limit, windowMS int) bool {
	if w.start == 0 || nowMS >= w.start+int64(windowMS) {
		w.start, w.count = nowMS, 0
	}
	w.count++
	return w.count <= limit
}
