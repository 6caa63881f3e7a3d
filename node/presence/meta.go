package presence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/realtimeops/realtime/node/phoenix"
)

// ErrMetaNotObject is returned by Track when the meta is not a JSON object;
// the channel layer answers "Presence track payload must be a map".
var ErrMetaNotObject = errors.New("presence meta must be a JSON object")

// Meta is one presence entry as sent on the wire: the user's JSON object plus
// phx_ref (and phx_ref_prev on updates). Data is never mutated once stored,
// so Metas may be shared freely.
type Meta struct {
	Ref, PrevRef string
	Data         json.RawMessage // a JSON object
}

// MarshalJSON renders {"phx_ref":...,["phx_ref_prev":...,] ...user fields}.
// User keys phx_ref and phx_ref_prev are dropped: the tracker's refs win.
func (m Meta) MarshalJSON() ([]byte, error) {
	return m.appendJSON(make([]byte, 0, 48+len(m.Data)))
}

func (m Meta) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"phx_ref":`...)
	b = appendString(b, m.Ref)
	if m.PrevRef != "" {
		b = append(b, `,"phx_ref_prev":`...)
		b = appendString(b, m.PrevRef)
	}
	return appendUserFields(b, m.Data)
}

// State is the presence of one topic: key -> metas, ordered deterministically.
type State map[string][]Meta

// MarshalJSON renders {"key":{"metas":[...]}} with sorted keys; {} when empty.
func (s State) MarshalJSON() ([]byte, error) {
	return s.appendJSON(make([]byte, 0, 64*len(s)+2))
}

func (s State) appendJSON(b []byte) ([]byte, error) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, `:{"metas":[`...)
		for j, m := range s[k] {
			if j > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = m.appendJSON(b); err != nil {
				return nil, fmt.Errorf("presence key %q: %w", k, err)
			}
		}
		b = append(b, "]}"...)
	}
	return append(b, '}'), nil
}

// Diff is the presence change of one topic caused by one operation or merge.
// An update is a join of the new meta (with PrevRef) plus a leave of the old.
type Diff struct {
	Topic         string
	Joins, Leaves State
}

// MarshalJSON renders the presence_diff payload {"joins":{...},"leaves":{...}};
// both keys are always present. Topic is not part of the payload.
func (d Diff) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 128), `{"joins":`...)
	b, err := d.Joins.appendJSON(b)
	if err != nil {
		return nil, fmt.Errorf("presence diff joins: %w", err)
	}
	b = append(b, `,"leaves":`...)
	if b, err = d.Leaves.appendJSON(b); err != nil {
		return nil, fmt.Errorf("presence diff leaves: %w", err)
	}
	return append(b, '}'), nil
}

// MarshalDiff renders the presence_diff payload of d.
func MarshalDiff(d Diff) ([]byte, error) { return d.MarshalJSON() }

// normalizeMeta validates a track payload and stores it compact and without
// phx_ref keys, so that marshalling later is a plain splice. nil means {}.
func normalizeMeta(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if raw[0] != '{' {
		return nil, ErrMetaNotObject
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetaNotObject, err)
	}
	out := buf.Bytes()
	if !mayHaveRefKeys(out) {
		return out, nil
	}
	b, err := appendFilteredFields(nil, out) // ",k:v,k:v"
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return json.RawMessage(`{}`), nil
	}
	b[0] = '{'
	return append(b, '}'), nil
}

// validObject reports whether data is a syntactically valid JSON object.
func validObject(data []byte) bool {
	data = bytes.TrimSpace(data)
	return len(data) > 0 && data[0] == '{' && json.Valid(data)
}

// mayHaveRefKeys is a cheap pre-check: a key can only decode to phx_ref or
// phx_ref_prev if the literal text is there or some \u escape is used.
func mayHaveRefKeys(data []byte) bool {
	return bytes.Contains(data, []byte("phx_ref")) || bytes.Contains(data, []byte(`\u`))
}

// appendUserFields appends ",k:v..." of the object data and the closing brace.
func appendUserFields(b, data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return append(b, '}'), nil
	}
	if data[0] != '{' || data[len(data)-1] != '}' {
		return nil, ErrMetaNotObject
	}
	if mayHaveRefKeys(data) {
		b, err := appendFilteredFields(b, data)
		if err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	inner := bytes.TrimSpace(data[1 : len(data)-1])
	if len(inner) > 0 {
		b = append(b, ',')
		b = append(b, inner...)
	}
	return append(b, '}'), nil
}

// appendFilteredFields appends ",k:v" for every top-level member of data
// except phx_ref and phx_ref_prev, keeping the original order.
func appendFilteredFields(b, data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, ErrMetaNotObject
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMetaNotObject, err)
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("%w: field %q: %w", ErrMetaNotObject, key, err)
		}
		if key == "phx_ref" || key == "phx_ref_prev" {
			continue
		}
		b = append(b, ',')
		b = appendString(b, key)
		b = append(b, ':')
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, val); err != nil {
			return nil, fmt.Errorf("%w: field %q: %w", ErrMetaNotObject, key, err)
		}
		b = buf.Bytes()
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return nil, fmt.Errorf("%w: %w", ErrMetaNotObject, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrMetaNotObject)
	}
	return b, nil
}

// appendString appends s as a JSON string without escaping <, > and &, as the Elixir server (Jason)
// does; the encoder is shared with the wire frames.
func appendString(b []byte, s string) []byte { return phoenix.AppendString(b, s) }
