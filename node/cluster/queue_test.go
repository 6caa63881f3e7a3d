package cluster

import "testing"

func TestSendQueue(t *testing.T) {
	cases := []struct {
		name               string
		maxItems, maxBytes int
		pushes             []int // payload sizes
		want               []bool
	}{
		{"under limits", 3, 100, []int{10, 10, 10}, []bool{true, true, true}},
		{"item limit drops newest", 2, 100, []int{1, 1, 1}, []bool{true, true, false}},
		{"byte limit drops newest", 10, 25, []int{10, 10, 10, 5}, []bool{true, true, false, true}},
		{"oversized message alone still goes", 10, 5, []int{50, 1}, []bool{true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newSendQueue(tc.maxItems, tc.maxBytes)
			for i, n := range tc.pushes {
				if got := q.push(16, make([]byte, n)); got != tc.want[i] {
					t.Fatalf("push %d (%d bytes) = %v, want %v", i, n, got, tc.want[i])
				}
			}
			kept := 0
			for _, ok := range tc.want {
				if ok {
					kept++
				}
			}
			if q.depth() != kept {
				t.Fatalf("depth %d, want %d", q.depth(), kept)
			}
			batch := q.drain(nil)
			if len(batch) != kept || q.depth() != 0 || q.bytes != 0 {
				t.Fatalf("drain: %d frames, depth after %d", len(batch), q.depth())
			}
			if !q.push(16, []byte("again")) {
				t.Fatal("push after drain refused")
			}
			if next := q.drain(batch); len(next) != 1 || string(next[0].payload) != "again" {
				t.Fatalf("second drain: %+v", next)
			}
		})
	}
}
