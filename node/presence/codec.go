package presence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Binary delta format, version 1 (all integers are varints, strings and
// byte strings are a uvarint length followed by the bytes):
//
//	'P' 0x01 nsegments
//	segment: node epoch(signed) from to nremoves remove... nadds add...
//	add:     counter owner topic key ref prevref data
//
// Consecutive adds usually share a topic, so topic is a uvarint h followed by
// h>>1 bytes when h is even; h == 1 means "same topic as the previous add".
const (
	codecMagic   = 'P'
	codecVersion = 1
)

// ErrBadDelta wraps every decoding failure.
var ErrBadDelta = errors.New("presence: malformed delta")

// MarshalBinary encodes d; it never fails for deltas built by this package.
func (d Delta) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(make([]byte, 0, 64+d.sizeHint()))
}

// AppendBinary appends the encoding of d to b.
func (d Delta) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, codecMagic, codecVersion)
	b = binary.AppendUvarint(b, uint64(len(d.Segments)))
	for i := range d.Segments {
		s := &d.Segments[i]
		b = appendBytes(b, s.Replica.Node)
		b = binary.AppendVarint(b, s.Replica.Epoch)
		b = binary.AppendUvarint(b, s.From)
		b = binary.AppendUvarint(b, s.To)
		b = binary.AppendUvarint(b, uint64(len(s.Removes)))
		for _, c := range s.Removes {
			b = binary.AppendUvarint(b, c)
		}
		b = binary.AppendUvarint(b, uint64(len(s.Adds)))
		prevTopic := ""
		for j := range s.Adds {
			a := &s.Adds[j]
			b = binary.AppendUvarint(b, a.Counter)
			b = binary.AppendUvarint(b, uint64(a.Owner))
			if j > 0 && a.Topic == prevTopic {
				b = binary.AppendUvarint(b, 1)
			} else {
				b = binary.AppendUvarint(b, uint64(len(a.Topic))<<1)
				b = append(b, a.Topic...)
			}
			prevTopic = a.Topic
			b = appendBytes(b, a.Key)
			b = appendBytes(b, a.Meta.Ref)
			b = appendBytes(b, a.Meta.PrevRef)
			b = appendBytes(b, a.Meta.Data)
		}
	}
	return b, nil
}

func (d Delta) sizeHint() int {
	n := 0
	for i := range d.Segments {
		for j := range d.Segments[i].Adds {
			a := &d.Segments[i].Adds[j]
			n += 48 + len(a.Key) + len(a.Meta.Data)
		}
	}
	return n
}

func appendBytes[S ~string | ~[]byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes a delta; it is the inverse of MarshalBinary.
func (d *Delta) UnmarshalBinary(b []byte) error {
	v, err := UnmarshalDelta(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalDelta decodes and validates a delta received from the network:
// ranges must be ordered, dots sorted and inside their range, metas JSON
// objects. Metas do not alias b.
func UnmarshalDelta(b []byte) (Delta, error) {
	if len(b) < 2 || b[0] != codecMagic || b[1] != codecVersion {
		return Delta{}, fmt.Errorf("%w: bad header", ErrBadDelta)
	}
	r := reader{buf: bytes.Clone(b[2:])}
	n := r.count()
	d := Delta{Segments: make([]Segment, 0, n)}
	for i := 0; i < n && r.err == nil; i++ {
		s, err := r.segment()
		if err != nil {
			return Delta{}, fmt.Errorf("%w: segment %d: %w", ErrBadDelta, i, err)
		}
		d.Segments = append(d.Segments, s)
	}
	if r.err != nil {
		return Delta{}, fmt.Errorf("%w: %w", ErrBadDelta, r.err)
	}
	if len(r.buf) != 0 {
		return Delta{}, fmt.Errorf("%w: %d trailing bytes", ErrBadDelta, len(r.buf))
	}
	return d, nil
}

func (r *reader) segment() (Segment, error) {
	var s Segment
	s.Replica.Node = string(r.bytes())
	s.Replica.Epoch = r.varint()
	s.From, s.To = r.uvarint(), r.uvarint()
	if r.err == nil && s.From > s.To {
		return s, fmt.Errorf("range (%d, %d] is reversed", s.From, s.To)
	}
	if n := r.count(); n > 0 {
		s.Removes = make([]uint64, 0, n)
		for j := 0; j < n && r.err == nil; j++ {
			c := r.uvarint()
			if c == 0 || c > s.From || (j > 0 && c <= s.Removes[j-1]) {
				return s, fmt.Errorf("removed dot %d unsorted or not <= %d", c, s.From)
			}
			s.Removes = append(s.Removes, c)
		}
	}
	n := r.count()
	s.Adds = make([]Entry, 0, n)
	prevTopic := ""
	for j := 0; j < n && r.err == nil; j++ {
		var a Entry
		a.Counter = r.uvarint()
		a.Owner = Owner(r.uvarint())
		a.Topic = r.topic(prevTopic, j > 0)
		prevTopic = a.Topic
		a.Key = string(r.bytes())
		a.Meta.Ref = string(r.bytes())
		a.Meta.PrevRef = string(r.bytes())
		a.Meta.Data = r.bytes()
		if r.err != nil {
			break
		}
		if a.Counter <= s.From || a.Counter > s.To || (j > 0 && a.Counter <= s.Adds[j-1].Counter) {
			return s, fmt.Errorf("dot %d unsorted or outside (%d, %d]", a.Counter, s.From, s.To)
		}
		if !validObject(a.Meta.Data) {
			return s, fmt.Errorf("dot %d: %w", a.Counter, ErrMetaNotObject)
		}
		s.Adds = append(s.Adds, a)
	}
	return s, r.err
}

// reader consumes varints and strings, remembering the first error.
type reader struct {
	buf []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or invalid %s", what)
	}
	r.buf = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("uvarint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// count reads an element count, bounded by the bytes left (each element
// takes at least one byte) so a hostile count cannot force a huge allocation.
func (r *reader) count() int {
	v := r.uvarint()
	if v > uint64(len(r.buf)) {
		r.fail("count")
		return 0
	}
	return int(v)
}

func (r *reader) take(n uint64, what string) []byte {
	if n > uint64(len(r.buf)) {
		r.fail(what)
		return nil
	}
	v := r.buf[:n:n]
	r.buf = r.buf[n:]
	return v
}

func (r *reader) bytes() []byte { return r.take(r.uvarint(), "string") }

func (r *reader) topic(prev string, mayRepeat bool) string {
	v := r.uvarint()
	if v&1 == 1 {
		if !mayRepeat || v != 1 {
			r.fail("topic back-reference")
		}
		return prev
	}
	return string(r.take(v>>1, "topic"))
}
