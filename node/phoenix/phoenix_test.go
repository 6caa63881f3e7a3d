package phoenix

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeTextV2(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Message
		wantErr error
	}{
		{"join", `["1","1","realtime:room1","phx_join",{"config":{}}]`,
			Message{JoinRef: json.RawMessage(`"1"`), Ref: json.RawMessage(`"1"`), Topic: "realtime:room1", Event: "phx_join", Payload: json.RawMessage(`{"config":{}}`)}, nil},
		{"heartbeat null join_ref", `[null,"12","phoenix","heartbeat",{}]`,
			Message{Ref: json.RawMessage(`"12"`), Topic: "phoenix", Event: "heartbeat", Payload: json.RawMessage(`{}`)}, nil},
		{"extra items ignored", `[null,"1","phoenix","heartbeat",{},"x"]`,
			Message{Ref: json.RawMessage(`"1"`), Topic: "phoenix", Event: "heartbeat", Payload: json.RawMessage(`{}`)}, nil},
		{"numeric ref kept", `[1,2,"t","e",{}]`,
			Message{JoinRef: json.RawMessage(`1`), Ref: json.RawMessage(`2`), Topic: "t", Event: "e", Payload: json.RawMessage(`{}`)}, nil},
		{"four items", `[null,"1","phoenix","heartbeat"]`, Message{}, ErrNotArray},
		{"object on V2", `{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}`, Message{}, ErrNotArray},
		{"invalid json", `["1",`, Message{}, ErrNotArray},
		{"empty", ``, Message{}, ErrEmpty},
		{"topic not string", `[null,"1",5,"heartbeat",{}]`, Message{}, ErrBadTopic},
		{"event not string", `[null,"1","phoenix",{},{}]`, Message{}, ErrBadEvent},
		{"ref object", `[null,{},"phoenix","heartbeat",{}]`, Message{}, ErrBadRef},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeText(V2, []byte(tc.in))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !equalMsg(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeTextV1(t *testing.T) {
	got, err := DecodeText(V1, []byte(`{"topic":"realtime:room1","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Message{JoinRef: json.RawMessage(`"1"`), Ref: json.RawMessage(`"1"`), Topic: "realtime:room1", Event: "phx_join", Payload: json.RawMessage(`{"config":{}}`)}
	if !equalMsg(got, want) {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range []string{`{"topic":"a","event":"b","payload":{}}`, `["1","1","t","e",{}]`, `{"topic":"a"`} {
		if _, err := DecodeText(V1, []byte(bad)); !errors.Is(err, ErrNotObject) {
			t.Errorf("%s: err = %v, want ErrNotObject", bad, err)
		}
	}
}

// The worked example of docs/protocol.md#v2-binary-frames, byte for byte.
func TestDecodeBinaryKind3SpecExample(t *testing.T) {
	frame := mustHex(t, "03 01 01 0e 06 00 01 31 33 7265616c74696d653a726f6f6d31 637572736f72 7b2278223a317d")
	got, err := DecodeBinary(frame)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.JoinRef) != `"1"` || string(got.Ref) != `"3"` || got.Topic != "realtime:room1" || got.Event != "broadcast" {
		t.Fatalf("header: %+v", got)
	}
	u := got.User
	if u == nil || u.Event != "cursor" || u.Encoding != EncodingJSON || len(u.Meta) != 0 || string(u.Payload) != `{"x":1}` {
		t.Fatalf("user broadcast: %+v", u)
	}
}

func TestDecodeBinaryErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"kind 4 from client", "04 00 00 00 01", ErrUnknownKind},
		{"kind 9", "09", ErrUnknownKind},
		{"short header", "03 01 01", ErrShortBinary},
		{"lengths beyond frame", "03 05 01 0e 06 00 01 31", ErrShortBinary},
		{"bad encoding", "03 00 00 01 01 00 07 74 65", ErrBadEncoding},
		{"json encoding invalid json", "03 00 00 01 01 00 01 74 65 7b", ErrInvalidPayload},
		{"invalid utf8 topic", "03 00 00 01 01 00 00 ff 65", ErrBadTopic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeBinary(mustHex(t, tc.hex)); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDecodeBinaryKind0(t *testing.T) {
	frame := append([]byte{0, 1, 1, 7, 9}, []byte(`12phoenixheartbeat{}`)...)
	got, err := DecodeBinary(frame)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.JoinRef) != `"1"` || string(got.Ref) != `"2"` || got.Topic != "phoenix" || got.Event != "heartbeat" || string(got.Payload) != "{}" {
		t.Fatalf("got %+v", got)
	}
}

func TestEncodeUserBroadcastSpecExamples(t *testing.T) {
	got, err := EncodeUserBroadcast("realtime:room1", &UserBroadcast{Event: "cursor", Encoding: EncodingJSON, Payload: []byte(`{"x":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(t, "04 0e 06 00 01 7265616c74696d653a726f6f6d31 637572736f72 7b2278223a317d")
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
	meta := `{"id":"0b5c3c2e-6b5e-4b1c-9c7a-2f7d1f7a1a11"}`
	got, err = EncodeUserBroadcast("realtime:room1", &UserBroadcast{Event: "cursor", Encoding: EncodingJSON, Meta: []byte(meta),
		Payload: []byte(`{"x": 1, "id": "0b5c3c2e-6b5e-4b1c-9c7a-2f7d1f7a1a11"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got[3] != 0x2d || !bytes.Contains(got, []byte(meta)) {
		t.Fatalf("db broadcast frame: % x", got[:8])
	}
	if _, err := EncodeUserBroadcast(strings.Repeat("a", 256), &UserBroadcast{}); !errors.Is(err, ErrFieldTooLong) {
		t.Fatalf("long topic: %v", err)
	}
}

func TestEncodeText(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"v2 join reply", EncodeReply(V2, json.RawMessage(`"1"`), json.RawMessage(`"1"`), "realtime:room1", "ok", json.RawMessage(`{"postgres_changes":[]}`)),
			`["1","1","realtime:room1","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`},
		{"v1 join reply", EncodeReply(V1, json.RawMessage(`"1"`), json.RawMessage(`"1"`), "realtime:room1", "ok", json.RawMessage(`{"postgres_changes":[]}`)),
			`{"topic":"realtime:room1","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"1"}`},
		{"v2 heartbeat reply", EncodeReply(V2, nil, json.RawMessage(`"12"`), "phoenix", "ok", nil),
			`[null,"12","phoenix","phx_reply",{"status":"ok","response":{}}]`},
		{"v1 heartbeat reply", EncodeReply(V1, nil, json.RawMessage(`"12"`), "phoenix", "ok", nil),
			`{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"12"}`},
		{"v2 broadcast", EncodeText(V2, nil, nil, "realtime:room1", "broadcast", json.RawMessage(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`)),
			`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}]`},
		{"v1 broadcast", EncodeText(V1, nil, nil, "realtime:room1", "broadcast", json.RawMessage(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`)),
			`{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":1}},"ref":null}`},
		{"v2 presence_state", EncodeText(V2, json.RawMessage(`"1"`), nil, "realtime:room1", "presence_state", json.RawMessage(`{}`)),
			`["1",null,"realtime:room1","presence_state",{}]`},
		{"v2 close", EncodeText(V2, json.RawMessage(`"1"`), json.RawMessage(`"1"`), "realtime:room1", "phx_close", nil),
			`["1","1","realtime:room1","phx_close",{}]`},
		{"v1 close", EncodeText(V1, json.RawMessage(`"1"`), json.RawMessage(`"1"`), "realtime:room1", "phx_close", nil),
			`{"topic":"realtime:room1","event":"phx_close","payload":{},"ref":"1"}`},
		{"unmatched topic", EncodeReply(V2, nil, json.RawMessage(`"3"`), "nope", "error", ErrorReason("unmatched topic")),
			`[null,"3","nope","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`},
		{"escaping", EncodeText(V2, nil, nil, "realtime:a\"b\\c\n<&>", "e", nil),
			`[null,null,"realtime:a\"b\\c\n<&>","e",{}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Fatalf("got  %s\nwant %s", tc.got, tc.want)
			}
			if !json.Valid(tc.got) {
				t.Fatalf("invalid JSON: %s", tc.got)
			}
		})
	}
}

func TestUserBroadcastJSON(t *testing.T) {
	got, ok := UserBroadcastJSON(&UserBroadcast{Event: "cursor", Encoding: EncodingJSON, Payload: []byte(`{"x":1}`)})
	if !ok || string(got) != `{"event":"cursor","payload":{"x":1},"type":"broadcast"}` {
		t.Fatalf("got %s", got)
	}
	got, _ = UserBroadcastJSON(&UserBroadcast{Event: "e", Encoding: EncodingJSON, Payload: []byte(`{}`), Meta: []byte(`{"id":"x"}`)})
	if string(got) != `{"event":"e","payload":{},"type":"broadcast","meta":{"id":"x"}}` {
		t.Fatalf("got %s", got)
	}
	if _, ok := UserBroadcastJSON(&UserBroadcast{Encoding: EncodingBinary}); ok {
		t.Fatal("binary payload must not convert to JSON")
	}
}

func TestStringInvalidUTF8(t *testing.T) {
	if got := string(String("a\xffb")); got != `"a\ufffdb"` {
		t.Fatalf("got %s", got)
	}
}

func equalMsg(a, b Message) bool {
	return string(a.JoinRef) == string(b.JoinRef) && string(a.Ref) == string(b.Ref) && a.Topic == b.Topic &&
		a.Event == b.Event && string(a.Payload) == string(b.Payload)
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
