package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParsePollBody(t *testing.T) {
	bin := []byte{3, 1, 1, 6, 1, 0, 1}
	for _, tc := range []struct {
		name, ctype, body string
		want              []pollMessage
		err               bool
	}{
		{"single json", "application/json", `["1","1","realtime:a","phx_join",{}]`, []pollMessage{{data: []byte(`["1","1","realtime:a","phx_join",{}]`)}}, false},
		{"no content type", "", `{"topic":"phoenix"}`, []pollMessage{{data: []byte(`{"topic":"phoenix"}`)}}, false},
		{"empty single", "text/plain", "  ", nil, true},
		{"ndjson", "application/x-ndjson", "[1]\r\n[2]\n\n" + base64.StdEncoding.EncodeToString(bin),
			[]pollMessage{{data: []byte("[1]")}, {data: []byte("[2]")}, {data: bin, binary: true}}, false},
		{"bad base64", "application/x-ndjson", "[1]\nnot base64!", nil, true},
	} {
		got, err := parsePollBody(tc.ctype, []byte(tc.body))
		if (err != nil) != tc.err || err != nil && !errors.Is(err, errBadPollBody) {
			t.Fatalf("%s: err %v", tc.name, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: got %d messages", tc.name, len(got))
		}
		for i := range got {
			if !bytes.Equal(got[i].data, tc.want[i].data) || got[i].binary != tc.want[i].binary {
				t.Fatalf("%s: message %d = %q/%v", tc.name, i, got[i].data, got[i].binary)
			}
		}
	}
	many, _ := parsePollBody("application/x-ndjson", []byte(strings.Repeat("[0]\n", 150)))
	if len(many) != maxPollBatch {
		t.Fatalf("batch of %d", len(many))
	}
}

func FuzzParsePollBody(f *testing.F) {
	f.Add("application/x-ndjson", []byte("[\"1\",\"1\",\"realtime:a\",\"phx_join\",{}]\n"+base64.StdEncoding.EncodeToString([]byte{3, 0, 0, 0, 0, 0, 1})))
	f.Add("application/x-ndjson", []byte("\r\n\r\n[]\r\nAAAA"))
	f.Add("application/json", []byte(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}`))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		msgs, err := parsePollBody(ctype, body)
		if err != nil {
			if !errors.Is(err, errBadPollBody) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		if len(msgs) > maxPollBatch {
			t.Fatalf("%d messages", len(msgs))
		}
		for _, m := range msgs {
			if len(m.data) == 0 {
				t.Fatal("empty message")
			}
			if !m.binary && ctype == "application/x-ndjson" && m.data[0] != '[' && m.data[0] != '{' {
				t.Fatalf("text line %q", m.data)
			}
		}
	})
}
