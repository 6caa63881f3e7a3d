package rtt

import "time"

// Settle is the hysteresis of a published figure. A node publishes its settled figure, not the
// raw median: the settled figure follows the median only after the median has differed from it
// significantly (more than MinMs and more than Ratio of it) at every sample for Hold. Jitter of a
// few ms therefore never changes what placement sees (no move, no API write), while a path that
// got 100 ms slower shows after Hold. Doing this where the samples are, rather than in each
// node's placement memory, keeps the cluster's nodes agreeing: they all read the same figures.
type Settle struct {
	MinMs float64
	Ratio float64
	Hold  time.Duration
}

// DefaultSettle means more than 3 ms and 20%, held for 2 minutes (4 probe rounds at 30 s). MinMs
// stays below placement's 5 ms margin, so a settled figure is never so far from the measured
// median that the margin comparison would be decided by the lag rather than the path.
var DefaultSettle = Settle{MinMs: 3, Ratio: 0.2, Hold: 2 * time.Minute}

// Settled is one endpoint's settled state; the zero value has published nothing.
type Settled struct {
	Ms float64 // published figure (0: none yet)
	// Since is when the median was first seen significantly away from Ms (zero: it is not).
	Since time.Time
}

// Next folds the current median into st at now. The first figure is published at once.
func (s Settle) Next(st Settled, median float64, now time.Time) Settled {
	switch {
	case median <= 0:
		return st
	case st.Ms <= 0:
		return Settled{Ms: median}
	case !Changed(st.Ms, median, s.MinMs, s.Ratio):
		return Settled{Ms: st.Ms}
	case st.Since.IsZero():
		return Settled{Ms: st.Ms, Since: now}
	case now.Sub(st.Since) >= s.Hold:
		return Settled{Ms: median}
	default:
		return st
	}
}
