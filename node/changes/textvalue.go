package changes

import (
	"strings"

	"github.com/realtimeops/realtime/node/phoenix"
)

// appendValue appends the JSON form of a non-NULL value given in its Postgres text output form
// (pgoutput text mode, session TimeZone=UTC, DateStyle=ISO, bytea_output=hex).
func appendValue(buf []byte, t *typeInfo, text string) []byte {
	switch t.kind {
	case kNumber:
		if validJSONNumber(text) {
			return append(buf, text...)
		}
		return appendString(buf, text) // NaN, Infinity, -Infinity
	case kBool:
		if text == "t" || text == "true" {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case kJSON:
		return append(buf, text...)
	case kTimestamp:
		return appendString(buf, isoTimestamp(text, false))
	case kTimestamptz:
		return appendString(buf, isoTimestamp(text, true))
	case kBytea:
		return appendString(buf, strings.TrimPrefix(text, `\x`))
	case kArray:
		arr, ok := parseArray(text, t.delim)
		if !ok {
			return appendString(buf, text)
		}
		return appendArray(buf, t.elem, arr)
	}
	return appendString(buf, text)
}

func appendArray(buf []byte, elem *typeInfo, a arrayNode) []byte {
	buf = append(buf, '[')
	for i, c := range a.children {
		if i > 0 {
			buf = append(buf, ',')
		}
		switch {
		case c.children != nil || c.nested:
			buf = appendArray(buf, elem, c)
		case c.null:
			buf = append(buf, "null"...)
		default:
			buf = appendValue(buf, elem, c.text)
		}
	}
	return append(buf, ']')
}

// isoTimestamp turns the ISO DateStyle output into to_jsonb's XSD form: a 'T' between date and
// time, and a zone offset written as +HH:MM. infinity/-infinity and BC dates stay as they are.
func isoTimestamp(s string, tz bool) string {
	if len(s) < 19 || s[10] != ' ' || strings.HasSuffix(s, " BC") {
		return s
	}
	out := s[:10] + "T" + s[11:]
	if tz {
		// The offset follows the seconds (and fraction): +HH, +HH:MM or +HH:MM:SS.
		i := strings.LastIndexAny(out, "+-")
		if i > 10 && len(out)-i == 3 {
			out += ":00"
		}
	}
	return out
}

// validJSONNumber reports whether s is a JSON number as written (Postgres numeric output is).
func validJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// appendString appends s as a JSON string (shared encoder: no HTML escaping, invalid UTF-8 -> U+FFFD).
func appendString(buf []byte, s string) []byte { return phoenix.AppendString(buf, s) }

// arrayNode is a parsed Postgres array literal: either a sub-array (children) or an element.
type arrayNode struct {
	children []arrayNode
	nested   bool // an empty sub-array
	null     bool
	text     string
}

// parseArray parses the text output of an array ({1,2,NULL}, {"a b","c\"d"}, {{1,2},{3,4}},
// [0:1]={1,2}); ok is false for malformed input.
func parseArray(s string, delim byte) (arrayNode, bool) {
	if delim == 0 {
		delim = ','
	}
	if strings.HasPrefix(s, "[") { // explicit dimensions: "[1:2]={...}"
		eq := strings.Index(s, "=")
		if eq < 0 {
			return arrayNode{}, false
		}
		s = s[eq+1:]
	}
	p := arrayParser{s: s, delim: delim}
	n, ok := p.parseNode()
	if !ok {
		return arrayNode{}, false
	}
	p.skipSpace()
	return n, p.i == len(p.s)
}

type arrayParser struct {
	s     string
	i     int
	delim byte
}

func (p *arrayParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *arrayParser) parseNode() (arrayNode, bool) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return arrayNode{}, false
	}
	p.i++
	n := arrayNode{nested: true, children: []arrayNode{}}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return n, true
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return arrayNode{}, false
		}
		var child arrayNode
		var ok bool
		switch p.s[p.i] {
		case '{':
			child, ok = p.parseNode()
		case '"':
			child, ok = p.parseQuoted()
		default:
			child, ok = p.parseBare()
		}
		if !ok {
			return arrayNode{}, false
		}
		n.children = append(n.children, child)
		p.skipSpace()
		if p.i >= len(p.s) {
			return arrayNode{}, false
		}
		switch p.s[p.i] {
		case p.delim:
			p.i++
		case '}':
			p.i++
			return n, true
		default:
			return arrayNode{}, false
		}
	}
}

func (p *arrayParser) parseQuoted() (arrayNode, bool) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case c == '"':
			p.i++
			return arrayNode{text: b.String()}, true
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return arrayNode{}, false
}

func (p *arrayParser) parseBare() (arrayNode, bool) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != p.delim && p.s[p.i] != '}' && p.s[p.i] != '{' && p.s[p.i] != '"' {
		if p.s[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	if p.i > len(p.s) {
		return arrayNode{}, false
	}
	raw := strings.TrimSpace(p.s[start:p.i])
	if raw == "" {
		return arrayNode{}, false
	}
	if strings.EqualFold(raw, "NULL") {
		return arrayNode{null: true}, true
	}
	if strings.Contains(raw, `\`) {
		var b strings.Builder
		for i := 0; i < len(raw); i++ {
			if raw[i] == '\\' && i+1 < len(raw) {
				i++
			}
			b.WriteByte(raw[i])
		}
		raw = b.String()
	}
	return arrayNode{text: raw}, true
}

// arrayElements flattens a one-dimensional array literal into its element texts (nil for NULL);
// used for `in` filter values.
func arrayElements(lit string) ([]*string, bool) {
	n, ok := parseArray(lit, ',')
	if !ok {
		return nil, false
	}
	out := make([]*string, 0, len(n.children))
	for _, c := range n.children {
		if c.nested {
			return nil, false
		}
		if c.null {
			out = append(out, nil)
			continue
		}
		t := c.text
		out = append(out, &t)
	}
	return out, true
}
