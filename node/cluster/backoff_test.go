package cluster

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	cases := []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{0, 0.999999999, 100 * time.Millisecond},
		{0, 0, 50 * time.Millisecond},
		{1, 0.999999999, 200 * time.Millisecond},
		{3, 0.999999999, 800 * time.Millisecond},
		{5, 0.999999999, 2 * time.Second}, // capped
		{50, 0, time.Second},              // capped, no overflow
	}
	for _, tc := range cases {
		got := b.delay(tc.attempt, tc.jitter)
		if diff := got - tc.want; diff < -time.Microsecond || diff > time.Microsecond {
			t.Errorf("delay(%d, %v) = %v, want %v", tc.attempt, tc.jitter, got, tc.want)
		}
	}
	b.attempt = 7
	b.reset()
	if d := b.next(); d > 100*time.Millisecond {
		t.Errorf("after reset next() = %v, want <= min", d)
	}
}
