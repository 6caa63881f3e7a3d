package phoenix

import (
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
