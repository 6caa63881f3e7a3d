package changes

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// inspect renders a decoded JSON value the way Elixir's inspect/1 prints the equivalent term, so
// error texts match the Elixir server's (e.g. `%{"filter" => "x", "table" => 1}`, `["foo", "hey"]`).
// Maps print with keys in term order (byte order for binaries), as small Elixir maps do.
func inspect(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case bool:
		return fmt.Sprint(x)
	case string:
		return inspectString(x)
	case json.Number:
		return x.String()
	case float64:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = inspect(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = inspectString(k) + " => " + inspect(x[k])
		}
		return "%{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// inspectString prints a binary like Elixir: a quoted string with escapes when it is printable
// UTF-8, otherwise the <<byte, ...>> form.
func inspectString(s string) string {
	if !printable(s) {
		parts := make([]string, len(s))
		for i := 0; i < len(s); i++ {
			parts[i] = fmt.Sprint(s[i])
		}
		return "<<" + strings.Join(parts, ", ") + ">>"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\a':
			b.WriteString(`\a`)
		case 0x1b:
			b.WriteString(`\e`)
		case 0x7f:
			b.WriteString(`\d`)
		case '#':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteString(`\#`)
			} else {
				b.WriteByte('#')
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && !strings.ContainsRune("\n\r\t\v\b\f\a\x1b", r) {
			return false
		}
		if r >= 0x80 && r < 0xa0 {
			return false
		}
	}
	return true
}
