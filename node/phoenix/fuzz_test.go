package phoenix

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzDecodeText(f *testing.F) {
	for _, s := range []string{
		`["1","1","realtime:room1","phx_join",{"config":{}}]`, `[null,"12","phoenix","heartbeat",{}]`,
		`{"topic":"realtime:room1","event":"phx_join","payload":{},"ref":"1"}`, `[`, `{}`, `[1,2,3,4,5]`, "",
	} {
		f.Add(true, []byte(s))
		f.Add(false, []byte(s))
	}
	f.Fuzz(func(t *testing.T, v2 bool, data []byte) {
		v := V1
		if v2 {
			v = V2
		}
		m, err := DecodeText(v, data)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to valid JSON with the same topic and event.
		out := EncodeText(v, m.JoinRef, m.Ref, m.Topic, m.Event, m.Payload)
		if !json.Valid(out) {
			t.Fatalf("re-encoded frame is invalid JSON: %q", out)
		}
	})
}

func FuzzDecodeBinary(f *testing.F) {
	f.Add([]byte{3, 1, 1, 14, 6, 0, 1, '1', '3', 'r', 'e', 'a', 'l', 't', 'i', 'm', 'e', ':', 'r', 'o', 'o', 'm', '1', 'c', 'u', 'r', 's', 'o', 'r', '{', '}'})
	f.Add([]byte{0, 1, 1, 7, 9, '1', '2', 'p', 'h', 'o', 'e', 'n', 'i', 'x', 'h', 'e', 'a', 'r', 't', 'b', 'e', 'a', 't', '{', '}'})
	f.Add([]byte{3, 255, 255, 255, 255, 255, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeBinary(data)
		if err != nil || m.User == nil {
			return
		}
		if _, err := EncodeUserBroadcast(m.Topic, m.User); err != nil {
			t.Fatalf("decoded kind 3 does not re-encode as kind 4: %v", err)
		}
	})
}

func FuzzDecodeUserBroadcast(f *testing.F) {
	seed, _ := EncodeUserBroadcast("realtime:room1", &UserBroadcast{Event: "ev", Encoding: EncodingJSON, Meta: []byte(`{"id":"1"}`), Payload: []byte(`{"a":1}`)})
	f.Add(seed)
	f.Add([]byte{4, 1, 1, 0, 0, 't', 'e', 0xff})
	f.Add([]byte{4, 9, 9, 9, 1})
	f.Add([]byte{4, 0, 0, 0, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		topic, u, err := DecodeUserBroadcast(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		out, err := EncodeUserBroadcast(topic, u)
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("re-encode %q -> %q (%v)", data, out, err)
		}
	})
}
