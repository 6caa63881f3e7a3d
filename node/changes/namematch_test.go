package changes

import (
	"regexp"
	"strings"
	"testing"
)

func TestLikeMatch(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"todos", "todos", true},
		{"todos", "todo", false},
		{"todo%", "todos", true},
		{"todo%", "todo", true},
		{"todo%", "atodo", false},
		{"%do%", "todos", true},
		{"user_data", "user_data", true},
		{"user_data", "userXdata", true}, // as upstream: `_` is a wildcard
		{"user_data", "user__data", false},
		{"_", "", false},
		{"%", "", true},
		{"", "", true},
		{"a%b%c", "aXbYc", true},
		{"a%b%c", "aXbY", false},
		{"%%a", "ba", true},
		{"*", "anything", false}, // only nameMatches treats "*" as every name
	}
	for _, c := range cases {
		if got := likeMatch(c.pattern, c.name); got != c.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
	if !nameMatches("*", "x") || nameMatches("todo", "todos") {
		t.Error("nameMatches: * must match every name, a plain name only itself")
	}
}

func FuzzLikeMatch(f *testing.F) {
	f.Add("a%b_c", "aXXbYc")
	f.Add("%%", "")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		// A pattern without wildcards matches exactly itself.
		if !isNamePattern(pattern) && pattern != "*" && likeMatch(pattern, name) != (pattern == name) {
			t.Fatalf("likeMatch(%q, %q) without wildcards", pattern, name)
		}
		if !isASCII(pattern) || !isASCII(name) {
			return // the oracle works on runes, the matcher on bytes
		}
		if got, want := likeMatch(pattern, name), likeRegexp(pattern).MatchString(name); got != want {
			t.Fatalf("likeMatch(%q, %q) = %v, the regexp oracle says %v", pattern, name, got, want)
		}
	})
}

// likeRegexp is the obvious (slow) translation of a LIKE pattern without escape, as an oracle.
func likeRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '%':
			b.WriteString(`.*`)
		case '_':
			b.WriteString(`[\x00-\xff]`)
		default:
			b.WriteString(regexp.QuoteMeta(string(pattern[i : i+1])))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
