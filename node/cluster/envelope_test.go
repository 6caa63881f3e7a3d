package cluster

import (
	"bytes"
	"testing"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	cases := []envelope{
		{HopOrigin, "node-a", "realtime:room1", []byte(`{"x":1}`)},
		{HopLocal, "n", "", nil},
		{HopRegion, "eu@10.0.0.1", string(bytes.Repeat([]byte("k"), 300)), bytes.Repeat([]byte{1}, 1000)},
	}
	for _, e := range cases {
		b := encodeEnvelope(e.Hop, e.Origin, e.Key, e.Payload)
		if len(b) != envelopeOverhead(e.Origin, e.Key)+len(e.Payload) {
			t.Errorf("size %d, overhead says %d", len(b), envelopeOverhead(e.Origin, e.Key)+len(e.Payload))
		}
		got, err := decodeEnvelope(b)
		if err != nil || got.Hop != e.Hop || got.Origin != e.Origin || got.Key != e.Key || !bytes.Equal(got.Payload, e.Payload) {
			t.Fatalf("round trip %+v: %+v %v", e, got, err)
		}
		flipped, _ := decodeEnvelope(withHop(b, HopLocal))
		if flipped.Hop != HopLocal || flipped.Key != e.Key || b[0] != byte(e.Hop) {
			t.Fatalf("withHop changed the original or failed: %+v", flipped)
		}
	}
	bad := [][]byte{nil, {3}, {0}, {0, 0, 0}, {0, 5, 'a'}, {0, 1, 'a', 9, 'b'}, {0, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for _, b := range bad {
		if _, err := decodeEnvelope(b); err == nil {
			t.Errorf("decodeEnvelope(%v) accepted", b)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(encodeEnvelope(HopOrigin, "a", "t", []byte("p")))
	f.Add(encodeEnvelope(HopRegion, "node", "", nil))
	f.Add([]byte{2, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		again := encodeEnvelope(e.Hop, e.Origin, e.Key, e.Payload)
		if e2, err := decodeEnvelope(again); err != nil || e2.Origin != e.Origin || e2.Key != e.Key || !bytes.Equal(e2.Payload, e.Payload) {
			t.Fatalf("re-encode mismatch: %+v vs %+v (%v)", e, e2, err)
		}
	})
}
