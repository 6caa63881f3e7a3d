package cluster

import (
	"maps"
	"testing"
	"time"
)

func TestCounterTable(t *testing.T) {
	t0 := time.Unix(0, 0)
	a1 := Member{Name: "a", Epoch: 1}
	a2 := Member{Name: "a", Epoch: 2}
	b := Member{Name: "b", Epoch: 1}
	type step struct {
		op     string // apply, drop, expire
		peer   Member
		counts map[string]int
		at     time.Duration
		want   int // total for tenant "t" after the step
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"sum of peers, newest report wins", []step{
			{op: "apply", peer: a1, counts: map[string]int{"t": 3}, want: 3},
			{op: "apply", peer: b, counts: map[string]int{"t": 4, "u": 1}, want: 7},
			{op: "apply", peer: a1, counts: map[string]int{"t": 1}, want: 5},
			{op: "apply", peer: a1, counts: map[string]int{}, want: 4},
		}},
		{"stale epoch ignored, down drops", []step{
			{op: "apply", peer: a2, counts: map[string]int{"t": 5}, want: 5},
			{op: "apply", peer: a1, counts: map[string]int{"t": 100}, want: 5},
			{op: "drop", peer: a1, want: 5},
			{op: "drop", peer: a2, want: 0},
		}},
		{"expiry", []step{
			{op: "apply", peer: a1, counts: map[string]int{"t": 2}, want: 2},
			{op: "apply", peer: b, counts: map[string]int{"t": 3}, at: 5 * time.Second, want: 5},
			{op: "expire", at: 9 * time.Second, want: 3},
			{op: "expire", at: 20 * time.Second, want: 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab := newCounterTable()
			for i, s := range tc.steps {
				switch s.op {
				case "apply":
					tab.apply(s.peer, s.counts, t0.Add(s.at))
				case "drop":
					tab.drop(s.peer)
				case "expire":
					tab.expire(t0.Add(s.at), 6*time.Second)
				}
				if got := tab.total("t"); got != s.want {
					t.Fatalf("step %d: total %d, want %d", i, got, s.want)
				}
			}
		})
	}
}

func TestCountsCodec(t *testing.T) {
	for _, in := range []map[string]int{{}, {"t": 1}, {"tenant-a": 1 << 20, "": 0, "b": 7}} {
		out, err := decodeCounts(encodeCounts(in))
		if err != nil || !maps.Equal(in, out) {
			t.Fatalf("round trip %v: %v %v", in, out, err)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {1, 1, 'a'}, {0, 0}, {200, 1}, {1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}} {
		if _, err := decodeCounts(bad); err == nil {
			t.Errorf("decodeCounts(%v) accepted", bad)
		}
	}
}

func FuzzDecodeCounts(f *testing.F) {
	f.Add(encodeCounts(map[string]int{"a": 1, "b": 2}))
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeCounts(b)
		if err != nil {
			return
		}
		for k, v := range m {
			if v < 0 || v > maxTenantCount {
				t.Fatalf("count %s=%d out of range", k, v)
			}
		}
	})
}
