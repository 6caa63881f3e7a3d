// Package changes implements Postgres Changes (docs/protocol.md#postgres-changes): it streams each owned tenant's
// permanent logical replication slot (pgoutput), decodes row changes into the JSON Supabase
// Realtime sends, matches them against the bindings of joined channels (docs/protocol.md#filters), checks row
// visibility under RLS in batches, and hands each change to the subscribers before confirming the
// slot position, so nothing committed is lost when the stream or the node restarts.
package changes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
)

// Binding is one element of a join's config.postgres_changes.
type Binding struct {
	// Raw is the client's binding object, echoed verbatim (plus "id") in the join reply.
	Raw json.RawMessage
	// Event is INSERT, UPDATE, DELETE or "*"; Schema and Table are names or "*"; Filter is the
	// client's filter string (empty when none). These are the normalised values of docs/protocol.md#change-bindings.
	Event, Schema, Table, Filter string
	// ID is a stable 27-bit hash of Raw: identical bindings get identical ids.
	ID int64

	conds     []Cond   // parsed Filter
	selected  []string // nil = all columns
	paramsErr string   // non-empty: the system error text of docs/protocol.md#system-messages; the binding never matches
}

// ParseBindings parses config.postgres_changes: null means none, null entries are dropped, every
// other entry must be a JSON object. Parameter errors (bad filter, missing schema...) do not fail the
// parse: they are kept on the binding and reported by Subscribe as system messages, because the join
// reply must still echo every binding (docs/protocol.md#join-reply).
func ParseBindings(raw json.RawMessage) ([]Binding, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return []Binding{}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("unable to parse, expected an array of maps")
	}
	out := make([]Binding, 0, len(items))
	for _, item := range items {
		item = bytes.TrimSpace(item)
		if bytes.Equal(item, []byte("null")) {
			continue
		}
		b, err := parseBinding(item)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func parseBinding(item json.RawMessage) (Binding, error) {
	dec := json.NewDecoder(bytes.NewReader(item))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return Binding{}, errors.New("unable to parse, expected an array of maps")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, item); err != nil {
		return Binding{}, fmt.Errorf("compact binding: %w", err)
	}
	b := Binding{Raw: compact.Bytes(), ID: bindingID(m)}
	p, err := parseParams(m)
	b.Event = p.event
	if err != nil {
		b.paramsErr = err.Error()
		b.Schema, b.Table, b.Filter = str(m["schema"]), str(m["table"]), str(m["filter"])
		return b, nil
	}
	b.Schema, b.Table, b.Filter, b.conds, b.selected = p.schema, p.table, p.filter, p.conds, p.selected
	return b, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// bindingID hashes the canonical JSON of the binding (keys sorted, numbers as written), so key
// order and whitespace do not change the id, into [0, 2^27) like erlang:phash2/1.
func bindingID(m map[string]any) int64 {
	canon, _ := json.Marshal(m) // maps marshal with sorted keys
	h := fnv.New64a()
	h.Write(canon)
	return int64(h.Sum64() % (1 << 27))
}

// ReplyJSON is the binding object as the client sent it with "id" added, keeping the key order.
func (b Binding) ReplyJSON() json.RawMessage {
	raw := bytes.TrimSpace(b.Raw)
	if len(raw) < 2 || raw[0] != '{' {
		return json.RawMessage(fmt.Sprintf(`{"id":%d}`, b.ID))
	}
	body := bytes.TrimSpace(raw[1 : len(raw)-1])
	var out bytes.Buffer
	out.Grow(len(raw) + 20)
	out.WriteByte('{')
	if len(body) > 0 {
		out.Write(body)
		out.WriteByte(',')
	}
	fmt.Fprintf(&out, `"id":%d}`, b.ID)
	return out.Bytes()
}

// params are the parsed subscription parameters of docs/protocol.md#change-bindings.
type params struct {
	event, schema, table, filter string
	conds                        []Cond
	selected                     []string
}

// parseParams mirrors parse_subscription_params of the Elixir server, error texts included.
func parseParams(m map[string]any) (params, error) {
	p := params{event: actionFilter(m["event"])}
	sel, err := parseSelect(m)
	if err != nil {
		return p, err
	}
	p.selected = sel
	schema, hasSchema := m["schema"]
	table, hasTable := m["table"]
	filter, hasFilter := m["filter"]
	ss, schemaOK := schema.(string)
	ts, tableOK := table.(string)
	fs, filterOK := filter.(string)
	switch {
	case schemaOK && tableOK && filterOK:
		conds, err := ParseFilter(fs)
		if err != nil {
			return p, err
		}
		p.schema, p.table, p.filter, p.conds = ss, ts, fs, conds
	case schemaOK && tableOK && !hasFilter:
		p.schema, p.table = ss, ts
	case schemaOK && !hasTable && !hasFilter:
		p.schema, p.table = ss, "*"
	case tableOK && !hasSchema && !hasFilter:
		p.schema, p.table = "public", ts
	default:
		if _, ok := m["user_token"]; ok {
			return p, errors.New("No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: <redacted>")
		}
		if _, ok := m["auth_token"]; ok {
			return p, errors.New("No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: <redacted>")
		}
		return p, errors.New("No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: " + inspect(m))
	}
	if p.selected != nil && (p.schema == "*" || p.table == "*") {
		return p, errors.New("Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name.")
	}
	return p, nil
}

func actionFilter(v any) string {
	s, ok := v.(string)
	if !ok {
		return "*"
	}
	switch up := strings.ToUpper(s); up {
	case "INSERT", "UPDATE", "DELETE":
		return up
	}
	return "*"
}

// parseSelect: a list keeps its string elements (empty → all columns, docs/protocol.md#change-bindings); a string is an
// error; anything else means all columns.
func parseSelect(m map[string]any) ([]string, error) {
	switch v := m["select"].(type) {
	case []any:
		var cols []string
		for _, c := range v {
			if s, ok := c.(string); ok {
				cols = append(cols, s)
			}
		}
		return cols, nil
	case string:
		return nil, errors.New("Error parsing `select` params: expected a list of column name strings, e.g. select: [\"col1\", \"col2\"]")
	}
	return nil, nil
}

// paramsLog renders the parameters as the Elixir server's params_to_log does, for error texts.
func (b Binding) paramsLog() string {
	filters := make([]string, len(b.conds))
	for i, c := range b.conds {
		filters[i] = fmt.Sprintf("{%s, %s, %s, %t}", inspectString(c.Column), inspectString(c.Op), inspectString(c.Value), c.Negate)
	}
	sel := "nil"
	if b.selected != nil {
		sel = inspect(toAny(b.selected))
	}
	return fmt.Sprintf("event: %s, schema: %s, table: %s, filters: [%s], select: %s",
		b.Event, b.Schema, b.Table, strings.Join(filters, ", "), sel)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
