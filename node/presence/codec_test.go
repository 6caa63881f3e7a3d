package presence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func sampleDelta(t testing.TB) Delta {
	a := newTestTracker(ReplicaID{Node: "node-a", Epoch: -5}, nil)
	for i := range 4 {
		if err := a.Track("tenant:room1", fmt.Sprint("user", i), Owner(1<<40+i), []byte(`{"n":"é\u0000","i":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Track("tenant:room2", "x", 9, nil); err != nil {
		t.Fatal(err)
	}
	a.ExtractDelta()
	a.Untrack("tenant:room1", 1<<40+1)
	if err := a.Track("tenant:room1", "user2", 1<<40+2, []byte(`{"s":"away"}`)); err != nil {
		t.Fatal(err)
	}
	d, _ := a.ExtractDelta()
	return d
}

func TestDeltaRoundTrip(t *testing.T) {
	a := newTestTracker(ReplicaID{Node: "a", Epoch: 1}, nil)
	b := newTestTracker(ReplicaID{Node: "b", Epoch: 2}, nil)
	mustTrack(t, a, "t:1", "k", 1, `{"v":1}`)
	mustTrack(t, a, "t:2", "k", 2, `{}`)
	b.MergeDelta(a.Replica(), extract(t, a))
	mustTrack(t, b, "t:1", "j", 1, `{}`)
	b.ExtractDelta() // the track's delta; the next one is a heartbeat
	hb, _ := b.ExtractDelta()
	for name, d := range map[string]Delta{
		"delta with removes": sampleDelta(t),
		"full state":         b.FullState(),
		"heartbeat":          hb,
		"empty":              {},
	} {
		t.Run(name, func(t *testing.T) {
			bin, err := d.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Delta
			if err := got.UnmarshalBinary(bin); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(d)) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, d)
			}
		})
	}
	if d := sampleDelta(t); !reflect.DeepEqual(d.Segments[0].Removes, []uint64{2, 3}) || d.Segments[0].From == 0 {
		t.Fatalf("sample delta should carry removes of older dots 2 and 3: %+v", d)
	}
}

// normalize makes nil and empty slices compare equal.
func normalize(d Delta) Delta {
	if len(d.Segments) == 0 {
		d.Segments = nil
	}
	for i := range d.Segments {
		s := &d.Segments[i]
		if len(s.Removes) == 0 {
			s.Removes = nil
		}
		if len(s.Adds) == 0 {
			s.Adds = nil
		}
	}
	return d
}

func TestUnmarshalDeltaRejects(t *testing.T) {
	seg := func(from, to uint64, removes []uint64, adds ...[]byte) []byte {
		b := []byte{codecMagic, codecVersion, 1}
		b = appendBytes(b, "n")
		b = binary.AppendVarint(b, 1)
		b = binary.AppendUvarint(b, from)
		b = binary.AppendUvarint(b, to)
		b = binary.AppendUvarint(b, uint64(len(removes)))
		for _, r := range removes {
			b = binary.AppendUvarint(b, r)
		}
		b = binary.AppendUvarint(b, uint64(len(adds)))
		for _, a := range adds {
			b = append(b, a...)
		}
		return b
	}
	add := func(counter uint64, topic uint64, data string) []byte {
		b := binary.AppendUvarint(nil, counter)
		b = binary.AppendUvarint(b, 7) // owner
		b = binary.AppendUvarint(b, topic)
		if topic&1 == 0 {
			b = append(b, bytes.Repeat([]byte("t"), int(topic>>1))...)
		}
		b = appendBytes(b, "k")
		b = appendBytes(b, "ref")
		b = appendBytes(b, "")
		return appendBytes(b, data)
	}
	valid := seg(2, 5, []uint64{1, 2}, add(3, 2, `{}`), add(5, 1, `{"a":1}`))
	if _, err := UnmarshalDelta(valid); err != nil {
		t.Fatalf("valid input rejected: %v", err)
	}
	tests := map[string][]byte{
		"empty":               nil,
		"bad magic":           {'X', codecVersion, 0},
		"bad version":         {codecMagic, 9, 0},
		"truncated":           valid[:len(valid)-1],
		"trailing":            append(bytes.Clone(valid), 0),
		"huge count":          {codecMagic, codecVersion, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"reversed range":      seg(5, 2, nil),
		"remove above from":   seg(2, 5, []uint64{3}),
		"remove zero":         seg(2, 5, []uint64{0}),
		"removes unsorted":    seg(2, 5, []uint64{2, 1}),
		"add at from":         seg(2, 5, nil, add(2, 2, `{}`)),
		"add above to":        seg(2, 5, nil, add(6, 2, `{}`)),
		"adds unsorted":       seg(2, 5, nil, add(4, 2, `{}`), add(3, 2, `{}`)),
		"meta not object":     seg(2, 5, nil, add(3, 2, `[1]`)),
		"meta invalid":        seg(2, 5, nil, add(3, 2, `{"a":}`)),
		"first topic backref": seg(2, 5, nil, add(3, 1, `{}`)),
		"bad topic backref":   seg(2, 5, nil, add(3, 2, `{}`), add(4, 3, `{}`)),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := UnmarshalDelta(b); !errors.Is(err, ErrBadDelta) {
				t.Fatalf("UnmarshalDelta = %v, want ErrBadDelta", err)
			}
		})
	}
}

func TestUnmarshalDoesNotAliasInput(t *testing.T) {
	bin, err := sampleDelta(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d, err := UnmarshalDelta(bin)
	if err != nil {
		t.Fatal(err)
	}
	want := string(d.Segments[0].Adds[0].Meta.Data)
	clear(bin)
	if got := string(d.Segments[0].Adds[0].Meta.Data); got != want {
		t.Fatalf("meta changed with the input buffer: %q", got)
	}
}

// FuzzUnmarshalDelta: deltas come off the network. Decoding must never panic,
// a decoded delta must re-encode to an equivalent one, and merging it into a
// tracker must keep the diff stream consistent with List.
func FuzzUnmarshalDelta(f *testing.F) {
	for _, d := range []Delta{sampleDelta(f), {}} {
		b, _ := d.MarshalBinary()
		f.Add(b)
	}
	full := newTestTracker(ReplicaID{Node: "z", Epoch: 3}, nil)
	_ = full.Track("t", "k", 1, []byte(`{"phx_ref":"x","a":[1,{"b":null}]}`))
	b, _ := full.FullState().MarshalBinary()
	f.Add(b)
	f.Add([]byte{codecMagic, codecVersion})
	f.Add([]byte{codecMagic, codecVersion, 1, 1, 'n', 2, 0, 3, 0, 1, 2, 5, 2, 't', 1, 'k', 0, 0, 2, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := UnmarshalDelta(b)
		if err != nil {
			return
		}
		again, err := d.MarshalBinary()
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		d2, err := UnmarshalDelta(again)
		if err != nil || !reflect.DeepEqual(normalize(d), normalize(d2)) {
			t.Fatalf("re-decode mismatch: %v\n%+v\n%+v", err, d, d2)
		}
		view := newClientView(t)
		tr := newTestTracker(ReplicaID{Node: "local", Epoch: 1}, view.apply)
		tr.MergeDelta(ReplicaID{Node: "peer"}, d)
		tr.MergeState(ReplicaID{Node: "peer"}, d)
		view.assertMatches(tr)
		for _, topic := range tr.Topics() {
			if _, err := tr.List(topic).MarshalJSON(); err != nil {
				t.Fatalf("List JSON: %v", err)
			}
		}
	})
}
