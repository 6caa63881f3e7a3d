package presence

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// op is one local call on a tracker in a table test.
type op struct {
	untrack, untrackAll bool
	topic, key          string
	owner               Owner
	meta                string
}

func track(topic, key string, owner Owner, meta string) op {
	return op{topic: topic, key: key, owner: owner, meta: meta}
}
func untrack(topic string, owner Owner) op { return op{untrack: true, topic: topic, owner: owner} }
func untrackAll(owner Owner) op            { return op{untrackAll: true, owner: owner} }

// labeler replaces refs by R1, R2... in order of first appearance so that
// expected JSON can be written exactly.
type labeler struct {
	labels map[string]string
}

func (l *labeler) label(js string, metas ...Meta) string {
	for _, m := range metas {
		if _, ok := l.labels[m.Ref]; !ok && m.Ref != "" {
			l.labels[m.Ref] = fmt.Sprintf("R%d", len(l.labels)+1)
		}
	}
	for ref, lab := range l.labels {
		js = strings.ReplaceAll(js, `"`+ref+`"`, `"`+lab+`"`)
	}
	return js
}

func TestTrackerLocalDiffs(t *testing.T) {
	tests := []struct {
		name  string
		ops   []op
		diffs []string // "topic payload" per emitted diff, in order
		list  map[string]string
	}{{
		name:  "track",
		ops:   []op{track("t:room1", "ana", 1, `{"user":"ana","online_at":"2025"}`)},
		diffs: []string{`t:room1 {"joins":{"ana":{"metas":[{"phx_ref":"R1","user":"ana","online_at":"2025"}]}},"leaves":{}}`},
		list:  map[string]string{"t:room1": `{"ana":{"metas":[{"phx_ref":"R1","user":"ana","online_at":"2025"}]}}`},
	}, {
		name: "update is join with prev plus leave",
		ops:  []op{track("t:r", "ana", 1, `{"s":"on"}`), track("t:r", "ana", 1, `{"s":"away"}`)},
		diffs: []string{
			`t:r {"joins":{"ana":{"metas":[{"phx_ref":"R1","s":"on"}]}},"leaves":{}}`,
			`t:r {"joins":{"ana":{"metas":[{"phx_ref":"R2","phx_ref_prev":"R1","s":"away"}]}},"leaves":{"ana":{"metas":[{"phx_ref":"R1","s":"on"}]}}}`,
		},
		list: map[string]string{"t:r": `{"ana":{"metas":[{"phx_ref":"R2","phx_ref_prev":"R1","s":"away"}]}}`},
	}, {
		name:  "identical track is a no-op",
		ops:   []op{track("t:r", "ana", 1, `{"s":1}`), track("t:r", "ana", 1, ` { "s" : 1 } `)},
		diffs: []string{`t:r {"joins":{"ana":{"metas":[{"phx_ref":"R1","s":1}]}},"leaves":{}}`},
		list:  map[string]string{"t:r": `{"ana":{"metas":[{"phx_ref":"R1","s":1}]}}`},
	}, {
		name: "track untrack track same payload emits again",
		ops:  []op{track("t:r", "k", 1, `{}`), untrack("t:r", 1), track("t:r", "k", 1, `{}`)},
		diffs: []string{
			`t:r {"joins":{"k":{"metas":[{"phx_ref":"R1"}]}},"leaves":{}}`,
			`t:r {"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"R1"}]}}}`,
			`t:r {"joins":{"k":{"metas":[{"phx_ref":"R2"}]}},"leaves":{}}`,
		},
		list: map[string]string{"t:r": `{"k":{"metas":[{"phx_ref":"R2"}]}}`},
	}, {
		name:  "untrack absent is a no-op",
		ops:   []op{untrack("t:r", 9), untrackAll(9)},
		diffs: nil,
		list:  map[string]string{"t:r": `{}`},
	}, {
		name: "two owners share a key, metas in track order",
		ops:  []op{track("t:r", "ana", 1, `{"tab":1}`), track("t:r", "ana", 2, `{"tab":2}`), untrack("t:r", 1)},
		diffs: []string{
			`t:r {"joins":{"ana":{"metas":[{"phx_ref":"R1","tab":1}]}},"leaves":{}}`,
			`t:r {"joins":{"ana":{"metas":[{"phx_ref":"R2","tab":2}]}},"leaves":{}}`,
			`t:r {"joins":{},"leaves":{"ana":{"metas":[{"phx_ref":"R1","tab":1}]}}}`,
		},
		list: map[string]string{"t:r": `{"ana":{"metas":[{"phx_ref":"R2","tab":2}]}}`},
	}, {
		name: "key change is leave of old key and join of new",
		ops:  []op{track("t:r", "a", 1, `{}`), track("t:r", "b", 1, `{}`)},
		diffs: []string{
			`t:r {"joins":{"a":{"metas":[{"phx_ref":"R1"}]}},"leaves":{}}`,
			`t:r {"joins":{"b":{"metas":[{"phx_ref":"R2","phx_ref_prev":"R1"}]}},"leaves":{"a":{"metas":[{"phx_ref":"R1"}]}}}`,
		},
		list: map[string]string{"t:r": `{"b":{"metas":[{"phx_ref":"R2","phx_ref_prev":"R1"}]}}`},
	}, {
		name: "untrackAll leaves every topic, one diff per topic",
		ops:  []op{track("t:b", "k", 7, `{"x":1}`), track("t:a", "k", 7, `{"y":2}`), track("t:a", "o", 8, `{}`), untrackAll(7)},
		diffs: []string{
			`t:b {"joins":{"k":{"metas":[{"phx_ref":"R1","x":1}]}},"leaves":{}}`,
			`t:a {"joins":{"k":{"metas":[{"phx_ref":"R2","y":2}]}},"leaves":{}}`,
			`t:a {"joins":{"o":{"metas":[{"phx_ref":"R3"}]}},"leaves":{}}`,
			`t:a {"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"R2","y":2}]}}}`,
			`t:b {"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"R1","x":1}]}}}`,
		},
		list: map[string]string{"t:a": `{"o":{"metas":[{"phx_ref":"R3"}]}}`, "t:b": `{}`},
	}, {
		name:  "user phx_ref keys are overridden",
		ops:   []op{track("t:r", "k", 1, `{"phx_ref":"mine","a":[1, 2],"phx_ref_prev":"x"}`)},
		diffs: []string{`t:r {"joins":{"k":{"metas":[{"phx_ref":"R1","a":[1,2]}]}},"leaves":{}}`},
		list:  map[string]string{"t:r": `{"k":{"metas":[{"phx_ref":"R1","a":[1,2]}]}}`},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Diff
			tr := newTestTracker(ReplicaID{Node: "n1", Epoch: 1}, func(d Diff) { got = append(got, d) })
			l := &labeler{labels: map[string]string{}}
			for _, o := range tc.ops {
				switch {
				case o.untrackAll:
					tr.UntrackAll(o.owner)
				case o.untrack:
					tr.Untrack(o.topic, o.owner)
				default:
					if err := tr.Track(o.topic, o.key, o.owner, json.RawMessage(o.meta)); err != nil {
						t.Fatalf("Track: %v", err)
					}
				}
			}
			if len(got) != len(tc.diffs) {
				t.Fatalf("got %d diffs, want %d: %+v", len(got), len(tc.diffs), got)
			}
			for i, d := range got {
				b, err := MarshalDiff(d)
				if err != nil {
					t.Fatalf("MarshalDiff: %v", err)
				}
				var metas []Meta
				for _, s := range []State{d.Joins, d.Leaves} {
					for _, ms := range s {
						metas = append(metas, ms...)
					}
				}
				// Label joins first so that R-numbers follow creation order.
				for _, ms := range d.Joins {
					l.label("", ms...)
				}
				if js := d.Topic + " " + l.label(string(b), metas...); js != tc.diffs[i] {
					t.Errorf("diff %d:\n got %s\nwant %s", i, js, tc.diffs[i])
				}
			}
			for topic, want := range tc.list {
				if js := l.label(mustJSON(t, tr.List(topic))); js != want {
					t.Errorf("List(%s):\n got %s\nwant %s", topic, js, want)
				}
			}
		})
	}
}

func TestTrackRejectsNonObjects(t *testing.T) {
	tr := newTestTracker(ReplicaID{Node: "n"}, nil)
	for _, meta := range []string{`[]`, `"s"`, `1`, `null`, `{"a":}`, `{} {}`, `{"a":1`} {
		if err := tr.Track("t", "k", 1, json.RawMessage(meta)); !errors.Is(err, ErrMetaNotObject) {
			t.Errorf("Track(%s) = %v, want ErrMetaNotObject", meta, err)
		}
	}
	if err := tr.Track("t", "k", 1, nil); err != nil {
		t.Fatalf("Track(nil) = %v, want nil meta treated as {}", err)
	}
	if got := mustJSON(t, tr.List("t")["k"][0]); !strings.HasSuffix(got, `"}`) || strings.Count(got, ":") != 1 {
		t.Errorf("nil meta rendered %s, want only phx_ref", got)
	}
}

func TestRefFormat(t *testing.T) {
	if got := makeRef(0x0102030405060708, 0x090a, 0xff0b0c); got != "AQIDBAUGBwgJCgsM" {
		t.Errorf("makeRef = %q, want AQIDBAUGBwgJCgsM", got)
	}
	// Refs stay unique with a stalled wall clock and are 16 URL-safe chars.
	tr := NewLocal(ReplicaID{Node: "n", Epoch: 1}, nil)
	tr.now = func() int64 { return 42 }
	seen := map[string]bool{}
	for i := range 1000 {
		if err := tr.Track("t", "k", Owner(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range tr.List("t")["k"] {
		if len(m.Ref) != 16 || strings.ContainsAny(m.Ref, "+/=") || seen[m.Ref] {
			t.Fatalf("bad or duplicate ref %q", m.Ref)
		}
		seen[m.Ref] = true
	}
}

// TestConcurrentUse exercises the mutex under the race detector: channels
// track and untrack from their own goroutines while the cluster layer
// extracts and merges.
func TestConcurrentUse(t *testing.T) {
	view := newClientView(t)
	// Diffs arrive under the tracker's lock, so the view needs no lock of its own.
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, view.apply)
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 1}, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				owner := Owner(g*1000 + i%10)
				if err := a.Track("t", fmt.Sprint("k", g), owner, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					a.Untrack("t", owner)
				}
				_ = a.List("t")
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			d, _ := a.ExtractDelta()
			if b.MergeDelta(a.Replica(), d) {
				b.MergeState(a.Replica(), a.FullState())
			}
		}
	}()
	wg.Wait()
	d, _ := a.ExtractDelta()
	if b.MergeDelta(a.Replica(), d) {
		t.Fatal("unexpected gap: deltas were merged in extraction order")
	}
	if ga, gb := listJSON(t, a, "t"), listJSON(t, b, "t"); ga != gb {
		t.Fatalf("replicas differ:\n%s\n%s", ga, gb)
	}
	view.assertMatches(a)
}
