package authz

import (
	"errors"
	"testing"
	"time"
)

func TestPoolGuard(t *testing.T) {
	now := time.Unix(1000, 0)
	g := &PoolGuard{Size: 2, now: func() time.Time { return now }}
	exhausted := &Error{Kind: KindPoolExhausted, Err: errors.New("x")}
	steps := []struct {
		observe error
		advance time.Duration
		flagged bool
	}{
		{nil, 0, false},
		{&Error{Kind: KindPolicy, Err: errors.New("p")}, 0, false},
		{exhausted, 0, false},
		{exhausted, 10 * time.Second, true}, // two within 30s
		{nil, 21 * time.Second, false},      // the first aged out (31s old)
		{exhausted, 0, true},
		{nil, 31 * time.Second, false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		g.Observe(s.observe)
		err := g.Check()
		if (err != nil) != s.flagged {
			t.Fatalf("step %d: Check = %v, want flagged=%v", i, err, s.flagged)
		}
		if err != nil && err.(*Error).JoinReason("t") != "IncreaseConnectionPool: Please increase your connection pool size" {
			t.Fatalf("reason %q", err.(*Error).JoinReason("t"))
		}
	}
}
