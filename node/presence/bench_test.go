package presence

import (
	"encoding/json"
	"fmt"
	"testing"
)

var benchMeta = json.RawMessage(`{"user":"ana","online_at":"2025-01-01T00:00:00Z"}`)

// BenchmarkTrack: one new presence per op (distinct owners over 100 topics),
// with a diff callback that renders the presence_diff payload, as the channel
// layer would.
func BenchmarkTrack(b *testing.B) {
	tr := NewLocal(ReplicaID{Node: "bench", Epoch: 1}, func(d Diff) {
		if _, err := d.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	})
	topics := make([]string, 100)
	for i := range topics {
		topics[i] = fmt.Sprintf("tenant:room%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.Track(topics[i%len(topics)], "user", Owner(i), benchMeta); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrackUpdate: the same owner changes its meta every op.
func BenchmarkTrackUpdate(b *testing.B) {
	tr := NewLocal(ReplicaID{Node: "bench", Epoch: 1}, nil)
	metas := []json.RawMessage{json.RawMessage(`{"s":"on"}`), json.RawMessage(`{"s":"away"}`)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := tr.Track("tenant:room", "user", 1, metas[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

func fullState10k(b *testing.B) (ReplicaID, Delta) {
	src := NewLocal(ReplicaID{Node: "src", Epoch: 1}, nil)
	for i := range 10_000 {
		if err := src.Track(fmt.Sprintf("tenant:room%d", i%100), fmt.Sprint("user", i), Owner(i), benchMeta); err != nil {
			b.Fatal(err)
		}
	}
	return src.Replica(), src.FullState()
}

// BenchmarkMergeFullState10k: a fresh replica merges a peer's full state of
// 10,000 presences over 100 topics, emitting the 100 join diffs.
func BenchmarkMergeFullState10k(b *testing.B) {
	from, st := fullState10k(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst := NewLocal(ReplicaID{Node: "dst", Epoch: 1}, func(Diff) {})
		dst.MergeState(from, st)
	}
}

// BenchmarkFullState10kCodec: encode + decode of that state (the wire cost of
// one state transfer).
func BenchmarkFullState10kCodec(b *testing.B) {
	_, st := fullState10k(b)
	bin, err := st.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(bin)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := st.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := UnmarshalDelta(out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeDeltaSteady: a replica holding 10,000 remote presences merges
// a small delta (one update) — the per-broadcast-period cost.
func BenchmarkMergeDeltaSteady(b *testing.B) {
	src := NewLocal(ReplicaID{Node: "src", Epoch: 1}, nil)
	for i := range 10_000 {
		if err := src.Track("tenant:room", fmt.Sprint("user", i), Owner(i), benchMeta); err != nil {
			b.Fatal(err)
		}
	}
	dst := NewLocal(ReplicaID{Node: "dst", Epoch: 1}, func(Diff) {})
	dst.MergeState(src.Replica(), src.FullState())
	src.ExtractDelta()
	metas := []json.RawMessage{json.RawMessage(`{"s":"on"}`), json.RawMessage(`{"s":"away"}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := src.Track("tenant:room", "user1", 1, metas[i%2]); err != nil {
			b.Fatal(err)
		}
		d, _ := src.ExtractDelta()
		if dst.MergeDelta(src.Replica(), d) {
			b.Fatal("unexpected gap")
		}
	}
}

// BenchmarkListJSON: presence_state of a topic with 1,000 presences.
func BenchmarkListJSON(b *testing.B) {
	tr := NewLocal(ReplicaID{Node: "bench", Epoch: 1}, nil)
	for i := range 1000 {
		if err := tr.Track("tenant:room", fmt.Sprint("user", i), Owner(i), benchMeta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.List("tenant:room").MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
