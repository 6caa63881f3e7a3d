package changes

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	cases := []struct {
		in   string
		want []Cond
		err  string
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: "id=eq.1", want: []Cond{{"id", "eq", "1", false}}},
		{in: " details=eq.match , id=gt.0 ", want: []Cond{{"details", "eq", "match", false}, {"id", "gt", "0", false}}},
		{in: "subject=in.(hidee,ho)", want: []Cond{{"subject", "in", "{hidee,ho}", false}}},
		{in: `name=in.("a,b",c)`, want: []Cond{{"name", "in", `{"a,b",c}`, false}}},
		{in: "subject=not.like.hey%", want: []Cond{{"subject", "like", "hey%", true}}},
		{in: `name=eq."a,b"`, want: []Cond{{"name", "eq", "a,b", false}}},
		{in: `name=eq.""`, want: []Cond{{"name", "eq", "", false}}},
		{in: `name=eq." a "`, want: []Cond{{"name", "eq", " a ", false}}},
		{in: `path=eq."C:\\tmp"`, want: []Cond{{"path", "eq", `C:\tmp`, false}}},
		{in: `name=eq."abc`, want: []Cond{{"name", "eq", `"abc`, false}}},
		{in: `name=eq."a"b`, want: []Cond{{"name", "eq", `"a"b`, false}}},
		{in: `name=not.eq."x,y"`, want: []Cond{{"name", "eq", "x,y", true}}},
		{in: `desc=eq.5" tall,id=gt.0`, want: []Cond{{"desc", "eq", `5" tall`, false}, {"id", "gt", "0", false}}},
		{in: "a=eq.x),b=eq.y)", want: []Cond{{"a", "eq", "x)", false}, {"b", "eq", "y)", false}}},
		{in: "a=is.null", want: []Cond{{"a", "is", "null", false}}},
		{in: "a=not.isdistinct.3", want: []Cond{{"a", "isdistinct", "3", true}}},
		{in: "a=imatch.^x.*y$", want: []Cond{{"a", "imatch", "^x.*y$", false}}},
		{in: "wrong", err: "Error parsing `filter` params: [\"wrong\"]"},
		{in: "undefined", err: "Error parsing `filter` params: [\"undefined\"]"},
		{in: "subject=foo.hey", err: "Error parsing `filter` params: [\"foo\", \"hey\"]"},
		{in: "subject=eq", err: "Error parsing `filter` params: [\"eq\"]"},
		{in: "subject=not.eq", err: "Error parsing `filter` params: [\"eq\"]"},
		{in: "id=in.1,2", err: "Error parsing `filter` params: `in` filter value must be wrapped by parentheses"},
		{in: "id=eq.1,,id=eq.2", err: "Error parsing `filter` params: filter must not contain empty segments (check for extra commas)"},
		{in: "id=eq.1,", err: "Error parsing `filter` params: filter must not contain empty segments (check for extra commas)"},
		{in: `a=b"c`, err: "Error parsing `filter` params: [\"b\\\"c\"]"},
	}
	for _, c := range cases {
		got, err := ParseFilter(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseFilter(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseFilter(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestParseBindings(t *testing.T) {
	bs, err := ParseBindings(json.RawMessage(`[{"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1"}, null,
		{"event":"*","schema":"public"}, {"table":"t"}, {"event":"delete","schema":"public","table":"t","select":["a"]},
		{"event":"x"}, {"schema":"public","filter":"id=eq.1"}, {"schema":"public","table":"t","filter":"wrong"}]`))
	if err != nil {
		t.Fatal(err)
	}
	type norm struct{ ev, sc, tb, err string }
	want := []norm{
		{"INSERT", "public", "todos", ""},
		{"*", "public", "*", ""},
		{"*", "public", "t", ""},
		{"DELETE", "public", "t", ""},
		{"*", "", "", "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{\"event\" => \"x\"}"},
		{"*", "public", "", "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{\"filter\" => \"id=eq.1\", \"schema\" => \"public\"}"},
		{"*", "public", "t", "Error parsing `filter` params: [\"wrong\"]"},
	}
	if len(bs) != len(want) {
		t.Fatalf("got %d bindings, want %d", len(bs), len(want))
	}
	for i, w := range want {
		b := bs[i]
		if (norm{b.Event, b.Schema, b.Table, b.paramsErr}) != w {
			t.Errorf("binding %d = %+v, want %+v", i, norm{b.Event, b.Schema, b.Table, b.paramsErr}, w)
		}
		if b.ID < 0 || b.ID >= 1<<27 {
			t.Errorf("binding %d id %d out of range", i, b.ID)
		}
	}
	if got := string(bs[0].ReplyJSON()); !strings.HasPrefix(got, `{"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1","id":`) {
		t.Errorf("ReplyJSON = %s", got)
	}
	again, _ := ParseBindings(json.RawMessage(`[{"table":"todos","schema":"public","filter":"id=eq.1","event":"INSERT"}]`))
	if again[0].ID != bs[0].ID {
		t.Errorf("same binding with other key order got id %d, want %d", again[0].ID, bs[0].ID)
	}
	if bs[0].ID == bs[1].ID {
		t.Errorf("different bindings share id %d", bs[0].ID)
	}
	sel, _ := ParseBindings(json.RawMessage(`[{"schema":"public","select":"a"},{"schema":"public","select":["a"]}]`))
	if sel[0].paramsErr != "Error parsing `select` params: expected a list of column name strings, e.g. select: [\"col1\", \"col2\"]" ||
		sel[1].paramsErr != "Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name." {
		t.Errorf("select errors: %q / %q", sel[0].paramsErr, sel[1].paramsErr)
	}
	for _, raw := range []string{`null`, ``, `[]`} {
		if bs, err := ParseBindings(json.RawMessage(raw)); err != nil || len(bs) != 0 {
			t.Errorf("ParseBindings(%q) = %v, %v", raw, bs, err)
		}
	}
	if _, err := ParseBindings(json.RawMessage(`[1]`)); err == nil {
		t.Error("non-object binding accepted")
	}
	if got := string(Binding{Raw: json.RawMessage(`{}`), ID: 5}.ReplyJSON()); got != `{"id":5}` {
		t.Errorf("empty ReplyJSON = %s", got)
	}
}

func TestCompiledCondEval(t *testing.T) {
	txt := func(s string) colVal { return colVal{state: 't', text: s} }
	null := colVal{state: 'n'}
	str := func(s string) *string { return &s }
	like, _ := likeToRegexp("ab%_", false)
	ilike, _ := likeToRegexp("AB%", true)
	re, _ := posixToRegexp("^k.*p$", false)
	cases := []struct {
		c    compiledCond
		v    colVal
		want bool
	}{
		{compiledCond{Cond: Cond{Op: "eq"}, kind: kNumber, val: "1"}, txt("1.0"), true},
		{compiledCond{Cond: Cond{Op: "eq"}, kind: kNumber, val: "1"}, txt("2"), false},
		{compiledCond{Cond: Cond{Op: "eq"}, kind: kNumber, val: "1"}, null, false},
		{compiledCond{Cond: Cond{Op: "eq", Negate: true}, kind: kNumber, val: "1"}, null, false},
		{compiledCond{Cond: Cond{Op: "neq"}, kind: kString, val: "a"}, txt("b"), true},
		{compiledCond{Cond: Cond{Op: "lt"}, kind: kNumber, val: "10"}, txt("9"), true},
		{compiledCond{Cond: Cond{Op: "lt"}, kind: kNumber, val: "10"}, txt("10"), false},
		{compiledCond{Cond: Cond{Op: "lte"}, kind: kNumber, val: "10"}, txt("10"), true},
		{compiledCond{Cond: Cond{Op: "gt"}, kind: kNumber, val: "1.5"}, txt("1.50001"), true},
		{compiledCond{Cond: Cond{Op: "gte"}, kind: kTimestamptz, val: "2024-01-01 00:00:00+00"}, txt("2024-01-01 00:00:00.5+00"), true},
		{compiledCond{Cond: Cond{Op: "gt"}, kind: kTimestamp, val: "2024-01-01 00:00:00"}, txt("infinity"), true},
		{compiledCond{Cond: Cond{Op: "in"}, kind: kNumber, list: []*string{str("1"), str("2")}}, txt("2"), true},
		{compiledCond{Cond: Cond{Op: "in"}, kind: kNumber, list: []*string{str("1"), nil}}, txt("3"), false},
		{compiledCond{Cond: Cond{Op: "in", Negate: true}, kind: kNumber, list: []*string{str("1")}}, txt("3"), true},
		{compiledCond{Cond: Cond{Op: "like"}, re: like}, txt("abcd"), true},
		{compiledCond{Cond: Cond{Op: "like"}, re: like}, txt("ab"), false},
		{compiledCond{Cond: Cond{Op: "ilike"}, re: ilike}, txt("abX"), true},
		{compiledCond{Cond: Cond{Op: "match"}, re: re}, txt("keep"), true},
		{compiledCond{Cond: Cond{Op: "match", Negate: true}, re: re}, txt("keep"), false},
		{compiledCond{Cond: Cond{Op: "is"}, isNull: true}, null, true},
		{compiledCond{Cond: Cond{Op: "is", Negate: true}, isNull: true}, null, false},
		{compiledCond{Cond: Cond{Op: "is"}, isBool: true}, txt("t"), true},
		{compiledCond{Cond: Cond{Op: "is"}, isBool: false}, txt("t"), false},
		{compiledCond{Cond: Cond{Op: "isdistinct"}, kind: kNumber, val: "1"}, null, true},
		{compiledCond{Cond: Cond{Op: "isdistinct", Negate: true}, kind: kNumber, val: "1"}, txt("1"), true},
		{compiledCond{Cond: Cond{Op: "eq"}, kind: kBool, val: "t"}, txt("t"), true},
		{compiledCond{Cond: Cond{Op: "gt"}, kind: kNumber, val: "1"}, txt("NaN"), true},
	}
	for i, c := range cases {
		if got := c.c.eval(c.v); got != c.want {
			t.Errorf("case %d (%s %+v on %+v) = %v, want %v", i, c.c.Op, c.c.Cond, c.v, got, c.want)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"id=eq.1", `a=in.("a,b",c)`, `a=eq."x\"y"`, "a=not.like.%x", ",,", `"`, "a=eq.x),b=eq.y)", "(((", `a=eq."\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		conds, err := ParseFilter(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), filterErrPrefix) {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		for _, c := range conds {
			if !filterOps[c.Op] {
				t.Fatalf("unknown op %q accepted", c.Op)
			}
			if c.Op == "in" && (!strings.HasPrefix(c.Value, "{") || !strings.HasSuffix(c.Value, "}")) {
				t.Fatalf("in value %q not an array literal", c.Value)
			}
		}
	})
}

func FuzzParseBindings(f *testing.F) {
	for _, s := range []string{`[{"event":"INSERT","schema":"public","table":"t","filter":"id=eq.1"}]`, `null`, `[null]`, `[{"select":"x"}]`, `{}`, `[{"user_token":1}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bs, err := ParseBindings(json.RawMessage(s))
		if err != nil {
			return
		}
		for _, b := range bs {
			var m map[string]any
			if err := json.Unmarshal(b.ReplyJSON(), &m); err != nil {
				t.Fatalf("ReplyJSON not JSON: %s: %v", b.ReplyJSON(), err)
			}
			if id, ok := m["id"].(float64); !ok || int64(id) != b.ID {
				t.Fatalf("ReplyJSON id %v, want %d", m["id"], b.ID)
			}
		}
	})
}
