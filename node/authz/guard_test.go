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
		flags   bool // this observation flagged the tenant
	}{
		{nil, 0, false, false},
		{&Error{Kind: KindPolicy, Err: errors.New("p")}, 0, false, false},
		{exhausted, 0, false, false},
		{exhausted, 10 * time.Second, true, true}, // two within 30s
		{exhausted, 0, true, false},               // already flagged
		{nil, 21 * time.Second, true, false},      // the first aged out (31s old), two left
		{nil, 10 * time.Second, false, false},     // all aged out
		{exhausted, 0, false, false},
		{exhausted, 0, true, true},
		{nil, 31 * time.Second, false, false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := g.Observe(s.observe); got != s.flags {
			t.Fatalf("step %d: Observe = %v, want %v", i, got, s.flags)
		}
		err := g.Check()
		if (err != nil) != s.flagged {
			t.Fatalf("step %d: Check = %v, want flagged=%v", i, err, s.flagged)
		}
		if err != nil && err.(*Error).JoinReason("t") != "IncreaseConnectionPool: Please increase your connection pool size" {
			t.Fatalf("reason %q", err.(*Error).JoinReason("t"))
		}
	}
}
