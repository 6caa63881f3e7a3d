package changes

import (
	"errors"
	"strings"
)

// Cond is one condition of a filter (docs/protocol.md#filters): `<Column>=[not.]<Op>.<Value>`.
type Cond struct {
	Column string
	// Op is one of eq neq lt lte gt gte in like ilike is match imatch isdistinct.
	Op string
	// Value is unquoted for every operator but in, whose value is the Postgres array literal
	// `{a,b}` built from `(a,b)`.
	Value  string
	Negate bool
}

var filterOps = map[string]bool{
	"eq": true, "neq": true, "lt": true, "lte": true, "gt": true, "gte": true, "in": true,
	"like": true, "ilike": true, "is": true, "match": true, "imatch": true, "isdistinct": true,
}

const filterErrPrefix = "Error parsing `filter` params: "

// ParseFilter parses a filter string; an empty or blank filter has no conditions. Errors carry the
// full system message text of docs/protocol.md#system-messages.
func ParseFilter(filter string) ([]Cond, error) {
	trimmed := strings.TrimSpace(filter)
	if trimmed == "" {
		return nil, nil
	}
	segs := splitTopLevel(trimmed)
	conds := make([]Cond, 0, len(segs))
	for _, seg := range segs {
		c, msg := parseSegment(seg)
		if msg != "" {
			return nil, errors.New(filterErrPrefix + msg)
		}
		conds = append(conds, c)
	}
	return conds, nil
}

// splitTopLevel splits on commas outside parentheses and quoted sections. A quote opens a quoted
// section only right after '.', '(' or ',' inside a segment; '\' escapes inside it; ')' never takes
// the depth below zero.
func splitTopLevel(s string) []string {
	var (
		segs    []string
		cur     strings.Builder
		depth   int
		quoted  bool
		prev    byte
		advance = func(c byte) { cur.WriteByte(c); prev = c }
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quoted {
			switch {
			case c == '\\' && i+1 < len(s):
				cur.WriteByte(c)
				i++
				advance(s[i])
			case c == '"':
				quoted = false
				advance(c)
			default:
				advance(c)
			}
			continue
		}
		switch {
		case c == '"' && (prev == '.' || prev == '(' || prev == ','):
			quoted = true
			advance(c)
		case c == '(':
			depth++
			advance(c)
		case c == ')':
			depth = max(0, depth-1)
			advance(c)
		case c == ',' && depth == 0:
			segs = append(segs, cur.String())
			cur.Reset()
			prev = 0
		default:
			advance(c)
		}
	}
	return append(segs, cur.String())
}

// parseSegment returns the condition or the error detail (without the common prefix).
func parseSegment(seg string) (Cond, string) {
	trimmed := strings.TrimSpace(seg)
	if trimmed == "" {
		return Cond{}, "filter must not contain empty segments (check for extra commas)"
	}
	col, rest, ok := strings.Cut(trimmed, "=")
	if !ok {
		return Cond{}, inspect([]any{trimmed})
	}
	negate := false
	if r, ok := strings.CutPrefix(rest, "not."); ok {
		negate, rest = true, r
	}
	op, value, ok := strings.Cut(rest, ".")
	if !ok {
		return Cond{}, inspect([]any{rest})
	}
	if !filterOps[op] {
		return Cond{}, inspect([]any{op, value})
	}
	if op == "in" {
		if len(value) < 2 || value[0] != '(' || value[len(value)-1] != ')' {
			return Cond{}, "`in` filter value must be wrapped by parentheses"
		}
		value = "{" + value[1:len(value)-1] + "}"
	} else {
		value = unquoteValue(value)
	}
	return Cond{Column: col, Op: op, Value: value, Negate: negate}, ""
}

// unquoteValue removes the quotes of a value that is exactly one quoted string, resolving '\'
// escapes; anything else (unterminated, trailing characters) is returned as written.
func unquoteValue(v string) string {
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			if i == len(v)-1 {
				return b.String()
			}
			return v
		case c == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		default:
			b.WriteByte(c)
		}
	}
	return v
}
