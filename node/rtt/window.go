// Package rtt measures the round-trip time from this node to each tenant database it can reach
// and keeps a robust figure per database endpoint: the median of the last few samples, with the
// time of the newest one. Placement (node/placement) compares these figures across nodes.
//
// A sample is one TCP connect to the database's host:port (SYN to SYN-ACK: one round trip).
// Every node measures the same way, owner or not, so figures compare; a query on the owner's
// pooled connection would add server time only the owner pays. Probing runs in its own goroutine
// at a low, jittered rate with a small concurrency bound, never on a request or WAL path.
package rtt

import (
	"slices"
	"time"
)

// Window keeps the last N samples of one endpoint; the zero value is unusable, use NewWindow.
type Window struct {
	buf  []float64
	next int
	last time.Time
}

// NewWindow keeps the last size samples (at least 1).
func NewWindow(size int) *Window {
	if size < 1 {
		size = 1
	}
	return &Window{buf: make([]float64, 0, size)}
}

// Add records one sample in milliseconds taken at at.
func (w *Window) Add(ms float64, at time.Time) {
	if len(w.buf) < cap(w.buf) {
		w.buf = append(w.buf, ms)
	} else {
		w.buf[w.next] = ms
		w.next = (w.next + 1) % len(w.buf)
	}
	w.last = at
}

// Median is the median of the kept samples (the mean of the middle two for an even count);
// ok is false when there is none. One outlier in five samples does not move it.
func (w *Window) Median() (ms float64, ok bool) {
	n := len(w.buf)
	if n == 0 {
		return 0, false
	}
	s := slices.Clone(w.buf)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// Len is the number of kept samples.
func (w *Window) Len() int { return len(w.buf) }

// Last is when the newest sample was taken.
func (w *Window) Last() time.Time { return w.last }

// Figure is an endpoint's published figure.
type Figure struct {
	Ms      float64   `json:"ms"`      // median of the window
	Settled float64   `json:"settled"` // the figure placement uses (Settle)
	Samples int       `json:"n"`
	At      time.Time `json:"at"` // newest sample
}

// Age of the figure at now.
func (f Figure) Age(now time.Time) time.Duration { return now.Sub(f.At) }

// Changed reports whether b differs from a enough to publish or act on: by more than minMs and
// by more than ratio of a. Small changes of a noisy figure are not worth an API write.
func Changed(a, b, minMs, ratio float64) bool {
	d := b - a
	if d < 0 {
		d = -d
	}
	return d > minMs && d > ratio*a
}
