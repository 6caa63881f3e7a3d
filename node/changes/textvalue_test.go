package changes

import (
	"encoding/json"
	"testing"
)

func TestAppendValue(t *testing.T) {
	mood := &typeInfo{name: "mood", kind: kString}
	cases := []struct {
		oid  uint32
		t    *typeInfo
		in   string
		want string
	}{
		{oid: 23, in: "42", want: "42"},
		{oid: 701, in: "-Infinity", want: `"-Infinity"`},
		{oid: 701, in: "1e+20", want: "1e+20"},
		{oid: 1700, in: "NaN", want: `"NaN"`},
		{oid: 16, in: "f", want: "false"},
		{oid: 25, in: "a\"b\\c\n\x01", want: `"a\"b\\c\n\u0001"`},
		{oid: 3802, in: `{"a": 1}`, want: `{"a": 1}`},
		{oid: 1114, in: "2024-01-02 03:04:05", want: `"2024-01-02T03:04:05"`},
		{oid: 1114, in: "infinity", want: `"infinity"`},
		{oid: 1184, in: "2024-01-02 03:04:05.5+00", want: `"2024-01-02T03:04:05.5+00:00"`},
		{oid: 1184, in: "2024-01-02 03:04:05+05:30", want: `"2024-01-02T03:04:05+05:30"`},
		{oid: 17, in: `\xdeadbeef`, want: `"deadbeef"`},
		{oid: 1007, in: "{{1,2},{3,NULL}}", want: "[[1,2],[3,null]]"},
		{oid: 1009, in: `{"a\"b",c,"NULL",NULL," x "}`, want: `["a\"b","c","NULL",null," x "]`},
		{oid: 1007, in: "[0:1]={5,6}", want: "[5,6]"},
		{oid: 1007, in: "{}", want: "[]"},
		{oid: 1016, in: "{bad", want: `"{bad"`},
		{oid: 3807, in: `{"{\"a\": 1}",null}`, want: `[{"a": 1},null]`},
		{t: mood, in: "happy", want: `"happy"`},
	}
	for _, c := range cases {
		ti := c.t
		if ti == nil {
			ti = builtinTypes[c.oid]
		}
		got := string(appendValue(nil, ti, c.in))
		if got != c.want {
			t.Errorf("appendValue(%s, %q) = %s, want %s", ti.name, c.in, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("appendValue(%s, %q) = %s is not JSON", ti.name, c.in, got)
		}
	}
}

func FuzzArrayDecode(f *testing.F) {
	for _, s := range []string{"{1,2}", `{"a\"",NULL}`, "{{1},{2}}", "[1:1]={x}", "{", `{"}`, "{a b, c }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, oid := range []uint32{1007, 1009, 3807, 1000} {
			if out := appendValue(nil, builtinTypes[oid], s); !json.Valid(out) && oid != 3807 {
				t.Fatalf("oid %d %q → invalid JSON %s", oid, s, out)
			}
		}
		if _, ok := arrayElements(s); ok {
			_ = ok
		}
	})
}
