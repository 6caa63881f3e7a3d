package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Wire format of a link, both directions, after an optional TLS handshake:
//
//	frame := length uint32 (big endian, counts type+payload, >= 1) | type byte | payload
//
// One frame is one message; TCP keeps frames of one link in order. The first frames of a
// connection are the handshake (handshake.go), the rest carry the types of doc.go.
const frameHeader = 5

// DefaultMaxFrame bounds a frame so a corrupt or hostile length cannot make a reader allocate
// gigabytes.
const DefaultMaxFrame = 16 << 20

var errFrameTooLarge = errors.New("frame too large")

// appendFrame appends one encoded frame to dst.
func appendFrame(dst []byte, typ byte, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)+1))
	dst = append(dst, typ)
	return append(dst, payload...)
}

// writeFrame writes one frame into a buffered writer (no flush: the caller batches).
func writeFrame(w *bufio.Writer, typ byte, payload []byte) error {
	var hdr [frameHeader]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(payload)+1))
	hdr[4] = typ
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// readFrame reads one frame; the payload is freshly allocated, so handlers may keep it.
func readFrame(r *bufio.Reader, maxFrame int) (typ byte, payload []byte, err error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n == 0 {
		return 0, nil, errors.New("frame with zero length")
	}
	if uint64(n) > uint64(maxFrame) {
		return 0, nil, fmt.Errorf("%w: %d bytes > %d", errFrameTooLarge, n, maxFrame)
	}
	payload = make([]byte, n-1)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("read frame payload: %w", noEOF(err))
	}
	return hdr[4], payload, nil
}

// noEOF turns a clean EOF inside a frame into ErrUnexpectedEOF: the peer died mid-frame.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
