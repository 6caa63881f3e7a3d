package pubsub

import (
	"encoding/binary"
	"errors"

	"github.com/realtimeops/realtime/node/phoenix"
)

// Messages cross node links in this compact form: a flags byte, then length-prefixed (uvarint)
// fields. Exclude is not carried: the excluded subscriber lives on the publishing node only.

const (
	flagUser byte = 1 << iota
)

// ErrBadWire is returned for an undecodable message from another node.
var ErrBadWire = errors.New("pubsub: malformed wire message")

// AppendWire appends the wire form of m to b.
func (m *Message) AppendWire(b []byte) []byte {
	var flags byte
	if m.User != nil {
		flags |= flagUser
	}
	b = append(b, flags)
	b = appendField(b, []byte(m.Topic))
	b = appendField(b, []byte(m.WireTopic))
	b = appendField(b, []byte(m.Event))
	b = appendField(b, []byte(m.MetaID))
	if m.User == nil {
		return appendField(b, m.Payload)
	}
	b = append(b, m.User.Encoding)
	b = appendField(b, []byte(m.User.Event))
	b = appendField(b, m.User.Meta)
	return appendField(b, m.User.Payload)
}

// DecodeWire decodes a message received from another node. The result does not alias b.
func DecodeWire(b []byte) (*Message, error) {
	if len(b) == 0 {
		return nil, ErrBadWire
	}
	flags := b[0]
	r := wireReader{b: b[1:]}
	m := &Message{Topic: string(r.field()), WireTopic: string(r.field()), Event: string(r.field()), MetaID: string(r.field())}
	if flags&flagUser == 0 {
		m.Payload = clone(r.field())
	} else {
		enc := r.byte()
		u := &phoenix.UserBroadcast{Encoding: enc, Event: string(r.field()), Meta: clone(r.field())}
		u.Payload = clone(r.field())
		m.User = u
	}
	if r.bad || len(r.b) != 0 || flags&^flagUser != 0 {
		return nil, ErrBadWire
	}
	return m, nil
}

func appendField(b, f []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	return append(b, f...)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

type wireReader struct {
	b   []byte
	bad bool
}

func (r *wireReader) field() []byte {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.bad = true
		r.b = nil
		return nil
	}
	f := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return f
}

func (r *wireReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}
