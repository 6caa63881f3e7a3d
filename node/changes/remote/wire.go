package remote

import (
	"encoding/binary"
	"errors"
)

// Control operations (first byte of a cluster.TypeChangeControl payload).
const (
	opClaim   byte = 1 // "I stream tenant X; register your subscriptions of X with me" (+nonce)
	opRelease byte = 2 // "I no longer stream tenant X"
	opDone    byte = 3 // reply to a claim: every subscription of X was sent before this (+nonce)
	opResync  byte = 4 // "I lost the state of our link": re-register, resend claims
	opBarrier byte = 5 // owner → node: ack when everything sent before was handled (+seq)
	opAck     byte = 6 // node → owner: reply to a barrier (+seq); owner → node: reply to a flush
	opFlush   byte = 7 // node → owner: ack when your stream passed everything committed before (+seq)
)

var errShort = errors.New("remote: truncated message")

// reg is a registration: a channel's subscription as the owner needs it.
type reg struct {
	Tenant   string
	Token    uint64
	Claims   []byte // JSON object
	Bindings []byte // JSON array of the bindings' raw objects
}

type change struct {
	Token uint64
	IDs   []int64
	Data  []byte
}

type system struct {
	Token           uint64
	Status, Message string
}

type control struct {
	Op     byte
	Tenant string
	N      uint64 // nonce or seq
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes the fields written by the append helpers; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (m reg) encode() []byte {
	b := appendString(nil, m.Tenant)
	b = binary.AppendUvarint(b, m.Token)
	b = appendBytes(b, m.Claims)
	return appendBytes(b, m.Bindings)
}

func decodeReg(p []byte) (reg, error) {
	r := reader{b: p}
	m := reg{Tenant: string(r.bytes()), Token: r.uvarint(), Claims: r.bytes(), Bindings: r.bytes()}
	return m, r.err
}

// encodeChange encodes a change; data is copied (the changes package shares it).
func encodeChange(token uint64, ids []int64, data []byte) []byte {
	b := make([]byte, 0, len(data)+16+8*len(ids))
	b = binary.AppendUvarint(b, token)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendVarint(b, id)
	}
	return appendBytes(b, data)
}

func decodeChange(p []byte) (change, error) {
	r := reader{b: p}
	m := change{Token: r.uvarint()}
	n := r.uvarint()
	if n > uint64(len(r.b)) { // every id takes at least one byte
		return m, errShort
	}
	m.IDs = make([]int64, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		m.IDs = append(m.IDs, r.varint())
	}
	m.Data = r.bytes()
	return m, r.err
}

func (m system) encode() []byte {
	b := binary.AppendUvarint(nil, m.Token)
	b = appendString(b, m.Status)
	return appendString(b, m.Message)
}

func decodeSystem(p []byte) (system, error) {
	r := reader{b: p}
	m := system{Token: r.uvarint(), Status: string(r.bytes()), Message: string(r.bytes())}
	return m, r.err
}

func (m control) encode() []byte {
	b := []byte{m.Op}
	b = appendString(b, m.Tenant)
	return binary.AppendUvarint(b, m.N)
}

func decodeControl(p []byte) (control, error) {
	r := reader{b: p}
	m := control{Op: r.byte(), Tenant: string(r.bytes()), N: r.uvarint()}
	return m, r.err
}

func encodeToken(token uint64) []byte { return binary.AppendUvarint(nil, token) }

func decodeToken(p []byte) (uint64, error) {
	r := reader{b: p}
	t := r.uvarint()
	return t, r.err
}
