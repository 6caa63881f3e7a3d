package cluster

import (
	"encoding/binary"
	"errors"
)

// envelope wraps a broadcast on the wire so receivers know how to route it:
//
//	hop byte | uvarint len | origin node name | uvarint len | key (topic) | payload...
//
// The hop byte comes first so a relay forwards by copying the bytes once and flipping it.
type envelope struct {
	Hop     Hop
	Origin  string
	Key     string
	Payload []byte
}

var errEnvelope = errors.New("malformed broadcast envelope")

// maxEnvelopeString bounds origin and key lengths in received envelopes.
const maxEnvelopeString = 1 << 16

func envelopeOverhead(origin, key string) int {
	return 1 + uvarintLen(len(origin)) + len(origin) + uvarintLen(len(key)) + len(key)
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// encodeEnvelope allocates the envelope once; it is then shared by every send of this hop.
func encodeEnvelope(hop Hop, origin, key string, payload []byte) []byte {
	b := make([]byte, 0, envelopeOverhead(origin, key)+len(payload))
	b = append(b, byte(hop))
	b = binary.AppendUvarint(b, uint64(len(origin)))
	b = append(b, origin...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, payload...)
}

// decodeEnvelope parses b; Payload aliases b.
func decodeEnvelope(b []byte) (envelope, error) {
	var e envelope
	if len(b) < 1 || Hop(b[0]) > HopLocal {
		return e, errEnvelope
	}
	e.Hop = Hop(b[0])
	rest := b[1:]
	var ok bool
	if e.Origin, rest, ok = readString(rest); !ok || e.Origin == "" {
		return e, errEnvelope
	}
	if e.Key, rest, ok = readString(rest); !ok {
		return e, errEnvelope
	}
	e.Payload = rest
	return e, nil
}

func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxEnvelopeString || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// withHop returns a copy of an encoded envelope carrying hop instead.
func withHop(b []byte, hop Hop) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	c[0] = byte(hop)
	return c
}
