package presence

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestMetaMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		want string
	}{
		{"empty data", Meta{Ref: "R1"}, `{"phx_ref":"R1"}`},
		{"empty object", Meta{Ref: "R1", Data: json.RawMessage(`{}`)}, `{"phx_ref":"R1"}`},
		{"spaced empty object", Meta{Ref: "R1", Data: json.RawMessage(" { } ")}, `{"phx_ref":"R1"}`},
		{"user fields keep order", Meta{Ref: "R1", Data: json.RawMessage(`{"z":1,"a":"x"}`)},
			`{"phx_ref":"R1","z":1,"a":"x"}`},
		{"prev ref", Meta{Ref: "R2", PrevRef: "R1", Data: json.RawMessage(`{"s":"away"}`)},
			`{"phx_ref":"R2","phx_ref_prev":"R1","s":"away"}`},
		{"user phx_ref overridden", Meta{Ref: "R1", Data: json.RawMessage(`{"phx_ref":"x","a":1}`)},
			`{"phx_ref":"R1","a":1}`},
		{"user phx_ref_prev dropped", Meta{Ref: "R1", Data: json.RawMessage(`{"a":1,"phx_ref_prev":"x"}`)},
			`{"phx_ref":"R1","a":1}`},
		{"escaped key spelling phx_ref", Meta{Ref: "R1", Data: json.RawMessage(`{"phx\u005fref":"x","b":"\u00e9"}`)},
			`{"phx_ref":"R1","b":"\u00e9"}`},
		{"nested phx_ref kept", Meta{Ref: "R1", Data: json.RawMessage(`{"o":{"phx_ref":1}}`)},
			`{"phx_ref":"R1","o":{"phx_ref":1}}`},
		{"phx_refs is not phx_ref", Meta{Ref: "R1", Data: json.RawMessage(`{"phx_refs":1}`)},
			`{"phx_ref":"R1","phx_refs":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.meta.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
			if !json.Valid(b) {
				t.Errorf("invalid JSON %s", b)
			}
		})
	}
	for _, bad := range []string{`[]`, `1`, `{"a":1`} {
		if _, err := (Meta{Ref: "r", Data: json.RawMessage(bad)}).MarshalJSON(); err == nil {
			t.Errorf("MarshalJSON with data %s: want error", bad)
		}
	}
}

func TestStateAndDiffJSON(t *testing.T) {
	ana := Meta{Ref: "GDDR8mqSXGSmAoyB", Data: json.RawMessage(`{"user":"ana","online_at":"2025-01-01T00:00:00Z"}`)}
	bo := Meta{Ref: "GDDR8nB2c1imAoyi", Data: json.RawMessage(`{"user":"bo"}`)}
	upd := Meta{Ref: "GDDR9Aq0kzCmAo0B", PrevRef: ana.Ref, Data: json.RawMessage(`{"user":"ana","status":"away"}`)}
	tests := []struct {
		name string
		v    json.Marshaler
		want string
	}{
		{"nil state", State(nil), `{}`},
		{"empty state", State{}, `{}`},
		{"spec presence_state", State{"ana": {ana}, "3f6c": {bo}},
			`{"3f6c":{"metas":[{"phx_ref":"GDDR8nB2c1imAoyi","user":"bo"}]},` +
				`"ana":{"metas":[{"phx_ref":"GDDR8mqSXGSmAoyB","user":"ana","online_at":"2025-01-01T00:00:00Z"}]}}`},
		{"several metas, escaped key", State{"a\"<b>\n": {bo, bo}, "1": {bo}},
			`{"1":{"metas":[{"phx_ref":"GDDR8nB2c1imAoyi","user":"bo"}]},` +
				`"a\"<b>\n":{"metas":[{"phx_ref":"GDDR8nB2c1imAoyi","user":"bo"},{"phx_ref":"GDDR8nB2c1imAoyi","user":"bo"}]}}`},
		{"empty diff", Diff{Topic: "t"}, `{"joins":{},"leaves":{}}`},
		{"spec presence_diff", Diff{Topic: "t", Joins: State{"ana": {upd}}, Leaves: State{"ana": {ana}}},
			`{"joins":{"ana":{"metas":[{"phx_ref":"GDDR9Aq0kzCmAo0B","phx_ref_prev":"GDDR8mqSXGSmAoyB","user":"ana","status":"away"}]}},` +
				`"leaves":{"ana":{"metas":[{"phx_ref":"GDDR8mqSXGSmAoyB","user":"ana","online_at":"2025-01-01T00:00:00Z"}]}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Called directly: json.Marshal would re-escape <, > and & in the output.
			b, err := tc.v.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s", "\x00\x1f\t\r\n", "é✓😀", "\xff\xfe", "\u2028"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, got, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = "\ufffd\ufffd"
		}
		if back != want {
			t.Errorf("round trip of %q gave %q", s, back)
		}
	}
}
