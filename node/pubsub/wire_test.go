package pubsub

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/realtimeops/realtime/node/phoenix"
)

func TestWireRoundTrip(t *testing.T) {
	msgs := []*Message{
		{Topic: "t:room", WireTopic: "realtime:room", Event: "broadcast", Payload: json.RawMessage(`{"type":"broadcast","event":"e","payload":{}}`), MetaID: "id1"},
		{Topic: "t-private:r", WireTopic: "realtime:r", Event: "broadcast",
			User: &phoenix.UserBroadcast{Event: "bin", Encoding: phoenix.EncodingBinary, Meta: []byte(`{"id":"x"}`), Payload: []byte{0, 1, 2}}},
		{Topic: "t:e", WireTopic: "realtime:e", Event: "broadcast", User: &phoenix.UserBroadcast{Event: "e", Encoding: phoenix.EncodingJSON, Payload: []byte(`{}`)}},
	}
	for _, m := range msgs {
		got, err := DecodeWire(m.AppendWire(nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []phoenix.Version{phoenix.V1, phoenix.V2} {
			if !bytes.Equal(got.Frame(v).Data, m.Frame(v).Data) || got.MetaID != m.MetaID || got.Topic != m.Topic {
				t.Fatalf("round trip differs for %+v", m)
			}
		}
	}
	for _, bad := range [][]byte{nil, {0}, {0, 5, 'a'}, {2}, append((&Message{Topic: "x"}).AppendWire(nil), 0)} {
		if _, err := DecodeWire(bad); err == nil {
			t.Fatalf("%v decoded", bad)
		}
	}
}

func FuzzDecodeWire(f *testing.F) {
	f.Add((&Message{Topic: "t:r", WireTopic: "realtime:r", Event: "broadcast", Payload: json.RawMessage(`{}`)}).AppendWire(nil))
	f.Add((&Message{Topic: "t:r", User: &phoenix.UserBroadcast{Event: "e", Payload: []byte{1}}}).AppendWire(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeWire(b)
		if err != nil {
			return
		}
		// Overlong varints decode too, so compare the canonical re-encoding's decoding.
		again, err := DecodeWire(m.AppendWire(nil))
		if err != nil || !bytes.Equal(again.AppendWire(nil), m.AppendWire(nil)) {
			t.Fatalf("re-encoding does not round-trip: %v", err)
		}
	})
}
