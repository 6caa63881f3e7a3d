package changes

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// compiledCond is a Cond bound to its column's type, with the value already canonicalised by the
// database into the text form pgoutput emits, so matching at change time is pure Go.
type compiledCond struct {
	Cond
	kind   kind
	val    string    // canonical scalar value
	list   []*string // canonical `in` elements (nil = NULL)
	re     *regexp.Regexp
	isNull bool // is.null / is.unknown
	isBool bool // is.true / is.false: the wanted value
}

// eval is the three-valued result of the condition collapsed to "matches": a NULL result (a NULL
// column compared with anything) never matches, negated or not (docs/protocol.md#filters).
func (c *compiledCond) eval(v colVal) bool {
	switch c.Op {
	case "is":
		var r bool
		switch {
		case c.isNull:
			r = v.state == 'n'
		default:
			r = v.state == 't' && parseBool(v.text) == c.isBool
		}
		return r != c.Negate
	case "isdistinct":
		var distinct bool
		if v.state == 'n' {
			distinct = true
		} else {
			distinct = compareValues(c.kind, v.text, c.val) != 0
		}
		return distinct != c.Negate
	}
	if v.state != 't' {
		return false
	}
	var r bool
	switch c.Op {
	case "eq":
		r = compareValues(c.kind, v.text, c.val) == 0
	case "neq":
		r = compareValues(c.kind, v.text, c.val) != 0
	case "lt":
		r = compareValues(c.kind, v.text, c.val) < 0
	case "lte":
		r = compareValues(c.kind, v.text, c.val) <= 0
	case "gt":
		r = compareValues(c.kind, v.text, c.val) > 0
	case "gte":
		r = compareValues(c.kind, v.text, c.val) >= 0
	case "in":
		sawNull := false
		for _, e := range c.list {
			if e == nil {
				sawNull = true
				continue
			}
			if compareValues(c.kind, v.text, *e) == 0 {
				r = true
				break
			}
		}
		if !r && sawNull { // x = any('{..,NULL}') is NULL when nothing matched
			return false
		}
	case "like", "ilike", "match", "imatch":
		r = c.re.MatchString(v.text)
	}
	return r != c.Negate
}

func parseBool(s string) bool { return s == "t" || s == "true" }

// compareValues orders two canonical text values of one type. Numbers compare numerically,
// booleans as false < true, everything else byte-wise (the C collation; timestamps and dates in
// their canonical ISO form order correctly that way).
func compareValues(k kind, a, b string) int {
	if a == b {
		return 0
	}
	switch k {
	case kNumber:
		return compareNumbers(a, b)
	case kBool:
		pa, pb := parseBool(a), parseBool(b)
		switch {
		case pa == pb:
			return 0
		case pb:
			return -1
		}
		return 1
	case kTimestamp, kTimestamptz:
		return compareTimestamps(a, b)
	}
	return strings.Compare(a, b)
}

func compareNumbers(a, b string) int {
	if x, err := strconv.ParseInt(a, 10, 64); err == nil {
		if y, err := strconv.ParseInt(b, 10, 64); err == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	ra, okA := numberRat(a)
	rb, okB := numberRat(b)
	switch { // NaN sorts above everything and equals itself, as in Postgres
	case !okA && !okB:
		return strings.Compare(a, b)
	case !okA:
		return specialOrder(a)
	case !okB:
		return -specialOrder(b)
	}
	return ra.Cmp(rb)
}

// specialOrder places a non-finite value relative to any finite one.
func specialOrder(s string) int {
	if strings.HasPrefix(s, "-") {
		return -1
	}
	return 1
}

func numberRat(s string) (*big.Rat, bool) {
	r, ok := new(big.Rat).SetString(s)
	return r, ok && !strings.ContainsAny(s, "nN") // reject NaN/Infinity spellings
}

func compareTimestamps(a, b string) int {
	rank := func(s string) int {
		switch s {
		case "-infinity":
			return -1
		case "infinity":
			return 1
		}
		return 0
	}
	if ra, rb := rank(a), rank(b); ra != 0 || rb != 0 {
		return ra - rb
	}
	return strings.Compare(a, b)
}

// likeToRegexp translates a LIKE pattern (% _ and \ escapes) into an anchored Go regexp.
func likeToRegexp(p string, insensitive bool) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("(?s)")
	if insensitive {
		b.WriteString("(?i)")
	}
	b.WriteByte('^')
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteByte('.')
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteByte('$')
	return regexp.Compile(b.String())
}

// posixToRegexp compiles a Postgres regular expression (~ / ~*) with Go's engine; the common
// subset (classes, anchors, alternation, repetition) behaves the same.
func posixToRegexp(p string, insensitive bool) (*regexp.Regexp, error) {
	if insensitive {
		p = "(?i)" + p
	}
	return regexp.Compile(p)
}
