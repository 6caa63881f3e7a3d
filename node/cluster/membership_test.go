package cluster

import (
	"testing"
	"time"
)

func TestHeartbeatTable(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a1 := Member{Name: "a", Addr: "10.0.0.1:1", Epoch: 1}
	a2 := Member{Name: "a", Addr: "10.0.0.1:1", Epoch: 2}
	b := Member{Name: "b", Addr: "10.0.0.2:1", Epoch: 1}
	self := Member{Name: "self", Addr: "10.0.0.9:1", Epoch: 1}
	type step struct {
		op      string // observe, forget, expire, touch
		m       Member
		at      time.Duration
		changed bool
		gone    int
		want    []string // names after the step
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"new member is a change, repeat is not", []step{
			{op: "observe", m: a1, changed: true, want: []string{"a"}},
			{op: "observe", m: a1, at: time.Second, changed: false, want: []string{"a"}},
		}},
		{"new epoch is a change, stale epoch ignored", []step{
			{op: "observe", m: a2, changed: true, want: []string{"a"}},
			{op: "observe", m: a1, changed: false, want: []string{"a"}},
			{op: "forget", m: a1, changed: false, want: []string{"a"}},
			{op: "forget", m: a2, changed: true, want: nil},
		}},
		{"silent member expires, self never", []step{
			{op: "observe", m: self, changed: true, want: []string{"self"}},
			{op: "observe", m: a1, changed: true, want: []string{"a", "self"}},
			{op: "observe", m: b, at: 2 * time.Second, changed: true, want: []string{"a", "b", "self"}},
			{op: "expire", at: 3 * time.Second, gone: 0, want: []string{"a", "b", "self"}},
			{op: "expire", at: 3*time.Second + time.Millisecond, gone: 1, want: []string{"b", "self"}},
			{op: "expire", at: 10 * time.Second, gone: 1, want: []string{"self"}},
		}},
		{"touchAll restarts the window", []step{
			{op: "observe", m: a1, changed: true, want: []string{"a"}},
			{op: "touch", at: 5 * time.Second, want: []string{"a"}},
			{op: "expire", at: 7 * time.Second, gone: 0, want: []string{"a"}},
			{op: "expire", at: 9 * time.Second, gone: 1, want: nil},
		}},
		{"nameless heartbeat ignored", []step{
			{op: "observe", m: Member{Addr: "x"}, changed: false, want: nil},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab := newHeartbeatTable("self")
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				switch s.op {
				case "observe":
					if got := tab.observe(s.m, now); got != s.changed {
						t.Fatalf("step %d observe changed=%v want %v", i, got, s.changed)
					}
				case "forget":
					if got := tab.forget(s.m); got != s.changed {
						t.Fatalf("step %d forget changed=%v want %v", i, got, s.changed)
					}
				case "expire":
					if got := tab.expire(now, 3*time.Second); len(got) != s.gone {
						t.Fatalf("step %d expire gone=%v want %d", i, got, s.gone)
					}
				case "touch":
					tab.touchAll(now)
				}
				var names []string
				for _, m := range tab.list() {
					names = append(names, m.Name)
				}
				if !equalStrings(names, s.want) {
					t.Fatalf("step %d members=%v want %v", i, names, s.want)
				}
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
