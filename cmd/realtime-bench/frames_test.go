package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestUserBroadcastPushSpecExample(t *testing.T) {
	// The worked example of docs/protocol.md#v2-binary-frames.
	got, err := userBroadcastPush("1", "3", "realtime:room1", "cursor", []byte(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x03, 0x01, 0x01, 0x0e, 0x06, 0x00, 0x01}, []byte(`13realtime:room1cursor{"x":1}`)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("kind 3:\n got % x\nwant % x", got, want)
	}
}

func TestDecodeUserBroadcast(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
		want    userBroadcast
	}{
		{
			name: "spec example",
			in:   append([]byte{0x04, 0x0e, 0x06, 0x00, 0x01}, []byte(`realtime:room1cursor{"x":1}`)...),
			want: userBroadcast{Topic: []byte("realtime:room1"), Event: []byte("cursor"), Meta: []byte{}, Encoding: 1, Payload: []byte(`{"x":1}`)},
		},
		{
			name: "with metadata",
			in:   append([]byte{0x04, 0x01, 0x01, 0x02, 0x00}, []byte("te{}\x00\x01")...),
			want: userBroadcast{Topic: []byte("t"), Event: []byte("e"), Meta: []byte("{}"), Encoding: 0, Payload: []byte{0, 1}},
		},
		{name: "short header", in: []byte{0x04, 0x01}, wantErr: true},
		{name: "wrong kind", in: []byte{0x03, 0, 0, 0, 0}, wantErr: true},
		{name: "lengths past the end", in: []byte{0x04, 0xff, 0, 0, 1, 'a'}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeUserBroadcast(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(got.Topic, tt.want.Topic) || !bytes.Equal(got.Event, tt.want.Event) ||
				!bytes.Equal(got.Meta, tt.want.Meta) || got.Encoding != tt.want.Encoding ||
				!bytes.Equal(got.Payload, tt.want.Payload) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct {
		in   string
		want reply
		err  bool
	}{
		{
			in:   `["1","1","realtime:room1","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`,
			want: reply{JoinRef: "1", Ref: "1", Topic: "realtime:room1", Event: "phx_reply", Status: "ok"},
		},
		{
			in: `["2","2","realtime:x","phx_reply",{"status":"error","response":{"reason":"ChannelRateLimitReached: Too many channels"}}]`,
			want: reply{JoinRef: "2", Ref: "2", Topic: "realtime:x", Event: "phx_reply", Status: "error",
				Reason: "ChannelRateLimitReached: Too many channels"},
		},
		{
			in:   `[null,"12","phoenix","phx_reply",{"status":"ok","response":{}}]`,
			want: reply{Ref: "12", Topic: "phoenix", Event: "phx_reply", Status: "ok"},
		},
		{
			in:   `["1",null,"realtime:a","system",{"extension":"system","status":"error","message":"Too many messages per second","channel":"a"}]`,
			want: reply{JoinRef: "1", Topic: "realtime:a", Event: "system", Status: "error", Reason: "Too many messages per second"},
		},
		{in: `{"topic":"x"}`, err: true},
		{
			in:   `{"event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"3","topic":"realtime:a","join_ref":"3"}`,
			want: reply{JoinRef: "3", Ref: "3", Topic: "realtime:a", Event: "phx_reply", Status: "ok"},
		},
		{in: `[1,2]`, err: true},
	}
	for _, tt := range tests {
		got, err := decodeText([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Fatalf("%s: err = %v", tt.in, err)
		}
		if err == nil && got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestStampedPayload(t *testing.T) {
	for _, size := range []int{0, 20, 100, 1024} {
		p := stampedPayload(1234567890123, 7, size)
		if !json.Valid(p) {
			t.Fatalf("size %d: invalid JSON %s", size, p)
		}
		if len(p) < size {
			t.Errorf("size %d: got %d bytes", size, len(p))
		}
		ts, ok := payloadStamp(p)
		if !ok || ts != 1234567890123 {
			t.Errorf("size %d: stamp = %d, %v", size, ts, ok)
		}
	}
	if _, ok := payloadStamp([]byte(`{"x":1}`)); ok {
		t.Error("stamp found in a payload without one")
	}
}

func FuzzDecodeUserBroadcast(f *testing.F) {
	f.Add(append([]byte{0x04, 0x0e, 0x06, 0x00, 0x01}, []byte(`realtime:room1cursor{"x":1}`)...))
	f.Add([]byte{0x04, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ub, err := decodeUserBroadcast(b)
		if err != nil {
			return
		}
		if n := 5 + len(ub.Topic) + len(ub.Event) + len(ub.Meta) + len(ub.Payload); n != len(b) {
			t.Fatalf("decoded fields cover %d bytes of %d", n, len(b))
		}
		payloadStamp(ub.Payload)
	})
}

func FuzzDecodeText(f *testing.F) {
	f.Add([]byte(`["1","1","realtime:room1","phx_reply",{"status":"ok","response":{}}]`))
	f.Add([]byte(`[null,null,"t","system",{"status":1}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeText(b)
	})
}

func TestIsBroadcastDelivery(t *testing.T) {
	for in, want := range map[string]bool{
		`[null,null,"realtime:a","broadcast",{"event":"bench","payload":{"t":1},"type":"broadcast"}]`:         true,
		`{"event":"broadcast","payload":{"event":"bench","payload":{"t":1}},"ref":null,"topic":"realtime:a"}`: true,
		`["1","1","realtime:a","phx_reply",{"status":"ok","response":{"x":",\"broadcast\","}}]`:               false,
		`{"event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"1","topic":"realtime:a"}`:        false,
	} {
		if got := isBroadcastDelivery([]byte(in)); got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}
