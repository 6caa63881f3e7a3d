package changes

import "time"

const (
	errNoPK         = "Error 400: Bad Request, no primary key"
	errUnauthorized = "Error 401: Unauthorized"
	errTooLarge     = "Error 413: Payload Too Large"
	// smallValueBytes is the largest JSON value kept in an oversized record (docs/protocol.md#row-visibility).
	smallValueBytes = 64
)

func opName(op byte) string {
	switch op {
	case 'I':
		return "INSERT"
	case 'U':
		return "UPDATE"
	}
	return "DELETE"
}

// view is what one group of subscribers may see of a change: which columns, or an error output.
type view struct {
	cols []bool // included columns; nil with errText set
	err  string // errNoPK or errUnauthorized
	// pkOnlyOld keeps only primary-key columns in old_record (DELETE on an RLS table).
	pkOnlyOld bool
}

// key identifies equal views so the payload is encoded once per distinct view.
func (v view) key() string {
	if v.err != "" {
		return v.err
	}
	b := make([]byte, len(v.cols)+1)
	for i, c := range v.cols {
		b[i] = '0'
		if c {
			b[i] = '1'
		}
	}
	b[len(v.cols)] = '0'
	if v.pkOnlyOld {
		b[len(v.cols)] = '1'
	}
	return string(b)
}

// viewFor computes the view of a change for a role's privileges and a binding's column selection
// (nil = all columns), following realtime.apply_rls.
func viewFor(ch *change, p rolePrivs, selected map[string]bool) view {
	rel := ch.rel
	if ch.op != 'D' {
		if len(rel.pk) == 0 {
			return view{err: errNoPK}
		}
		if !p.allPK {
			return view{err: errUnauthorized}
		}
	}
	v := view{cols: make([]bool, len(rel.cols)), pkOnlyOld: ch.op == 'D' && rel.rls}
	for i, c := range rel.cols {
		v.cols[i] = p.canRead[i] && (selected == nil || selected[c.name] || isPK(rel, i))
	}
	return v
}

func isPK(rel *relation, i int) bool {
	for _, k := range rel.pk {
		if k == i {
			return true
		}
	}
	return false
}

// encodeData renders the "data" object of a postgres_changes message (docs/protocol.md#change-payloads), keys in the order
// the Elixir server's JSON encoder writes them (alphabetical).
func encodeData(ch *change, commit time.Time, v view, maxRecordBytes int) []byte {
	rel := ch.rel
	buf := make([]byte, 0, 256+2*ch.size)
	if v.err != "" {
		buf = append(buf, `{"columns":[],"commit_timestamp":null,"errors":[`...)
		buf = appendString(buf, v.err)
		buf = append(buf, `],`...)
		if ch.op == 'U' {
			buf = append(buf, `"old_record":{},`...)
		}
		buf = append(buf, `"record":{},`...)
		return appendTail(buf, rel, ch.op)
	}
	oversized := maxRecordBytes > 0 && ch.size > maxRecordBytes
	buf = append(buf, `{"columns":[`...)
	first := true
	for i, c := range rel.cols {
		if !v.cols[i] {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, `{"name":`...)
		buf = appendString(buf, c.name)
		buf = append(buf, `,"type":`...)
		buf = appendString(buf, c.typ.name)
		buf = append(buf, '}')
	}
	buf = append(buf, `],"commit_timestamp":`...)
	buf = appendString(buf, commit.UTC().Format("2006-01-02T15:04:05.000Z"))
	if oversized {
		buf = append(buf, `,"errors":["`+errTooLarge+`"]`...)
	} else {
		buf = append(buf, `,"errors":null`...)
	}
	if ch.op != 'I' {
		buf = append(buf, `,"old_record":`...)
		buf = appendOld(buf, ch, v, oversized)
	}
	if ch.op != 'D' {
		buf = append(buf, `,"record":`...)
		buf = appendRecord(buf, ch, v, oversized)
	}
	buf = append(buf, ',')
	return appendTail(buf, rel, ch.op)
}

func appendTail(buf []byte, rel *relation, op byte) []byte {
	buf = append(buf, `"schema":`...)
	buf = appendString(buf, rel.schema)
	buf = append(buf, `,"table":`...)
	buf = appendString(buf, rel.name)
	buf = append(buf, `,"type":"`...)
	buf = append(buf, opName(op)...)
	return append(buf, `"}`...)
}

// appendRecord writes the new row. Unchanged TOAST values come from the old image when there is
// one (REPLICA IDENTITY FULL); otherwise their keys are left out.
func appendRecord(buf []byte, ch *change, v view, oversized bool) []byte {
	buf = append(buf, '{')
	first := true
	for i, c := range ch.rel.cols {
		if !v.cols[i] || i >= len(ch.newT) {
			continue
		}
		val := ch.newT[i]
		if val.state == 'u' && ch.oldT != nil && i < len(ch.oldT) {
			val = ch.oldT[i]
		}
		if val.state != 't' && val.state != 'n' {
			continue
		}
		buf, first = appendField(buf, first, c, val, oversized)
	}
	return append(buf, '}')
}

// appendOld writes the old row: the sent old image (all columns with REPLICA IDENTITY FULL, key
// columns otherwise) or, for an UPDATE without one, the key columns of the new row.
func appendOld(buf []byte, ch *change, v view, oversized bool) []byte {
	buf = append(buf, '{')
	first := true
	for i, c := range ch.rel.cols {
		if !v.cols[i] || (v.pkOnlyOld && !isPK(ch.rel, i)) {
			continue
		}
		var val colVal
		switch {
		case ch.oldT != nil && i < len(ch.oldT):
			val = ch.oldT[i]
		case ch.oldT == nil && ch.op == 'U' && ch.rel.key[i] && i < len(ch.newT):
			val = ch.newT[i]
		}
		if val.state != 't' && val.state != 'n' {
			continue
		}
		buf, first = appendField(buf, first, c, val, oversized)
	}
	return append(buf, '}')
}

func appendField(buf []byte, first bool, c column, val colVal, oversized bool) ([]byte, bool) {
	mark := len(buf)
	if !first {
		buf = append(buf, ',')
	}
	buf = appendString(buf, c.name)
	buf = append(buf, ':')
	start := len(buf)
	if val.state == 'n' {
		buf = append(buf, "null"...)
	} else {
		buf = appendValue(buf, c.typ, val.text)
	}
	if oversized && len(buf)-start > smallValueBytes {
		return buf[:mark], first
	}
	return buf, false
}
