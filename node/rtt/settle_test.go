package rtt

import (
	"testing"
	"time"
)

func TestSettle(t *testing.T) {
	s := Settle{MinMs: 3, Ratio: 0.2, Hold: time.Minute}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	tests := []struct {
		name   string
		st     Settled
		median float64
		now    time.Duration
		want   Settled
	}{
		{"first figure publishes at once", Settled{}, 0.4, 0, Settled{Ms: 0.4}},
		{"no median keeps state", Settled{Ms: 3, Since: t0}, 0, time.Hour, Settled{Ms: 3, Since: t0}},
		{"2 ms flutter never changes it", Settled{Ms: 0.4}, 2.4, 0, Settled{Ms: 0.4}},
		{"big change starts the clock", Settled{Ms: 0.4}, 100.4, 0, Settled{Ms: 0.4, Since: t0}},
		{"held shorter than Hold: unchanged", Settled{Ms: 0.4, Since: t0}, 100.4, 59 * time.Second, Settled{Ms: 0.4, Since: t0}},
		{"held for Hold: published", Settled{Ms: 0.4, Since: t0}, 100.4, time.Minute, Settled{Ms: 100.4}},
		{"change gone: clock reset", Settled{Ms: 0.4, Since: t0}, 1.4, 2 * time.Minute, Settled{Ms: 0.4}},
		{"small relative change of a large figure", Settled{Ms: 80}, 92, 0, Settled{Ms: 80}},
		{"getting better counts too", Settled{Ms: 100, Since: t0}, 40, time.Minute, Settled{Ms: 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Next(tt.st, tt.median, at(tt.now))
			if got.Ms != tt.want.Ms || !got.Since.Equal(tt.want.Since) {
				t.Fatalf("Next = %+v, want %+v", got, tt.want)
			}
		})
	}
}
