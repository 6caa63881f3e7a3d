package socket

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/pubsub"
)

// readFrame parses one unmasked server frame (RFC 6455 5.2).
func readFrame(t *testing.T, r io.Reader) (fin bool, op byte, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatalf("read header: %v", err)
	}
	if h[1]&0x80 != 0 {
		t.Fatal("server frame is masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(r, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(r, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return h[0]&0x80 != 0, h[0] & 0x0f, payload
}

func TestWriteFramesLengthsAndKinds(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	w := &batchWriter{conn: server, timeout: 5 * time.Second}
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 70000}
	var batch []pubsub.Frame
	for i, n := range sizes {
		batch = append(batch, pubsub.Frame{Data: bytes.Repeat([]byte{byte('a' + i)}, n), Binary: i%2 == 1})
	}
	errc := make(chan error, 1)
	go func() {
		_, err := w.writeFrames(batch)
		errc <- err
	}()
	for i, n := range sizes {
		fin, op, p := readFrame(t, client)
		wantOp := byte(opText)
		if i%2 == 1 {
			wantOp = opBinary
		}
		if !fin || op != wantOp || len(p) != n || (n > 0 && p[n-1] != byte('a'+i)) {
			t.Fatalf("frame %d: fin=%v op=%d len=%d, want fin op=%d len=%d", i, fin, op, len(p), wantOp, n)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("writeFrames: %v", err)
	}
}

// After the library wrote a close frame, queued data frames must not follow it (RFC 6455 5.5.1).
func TestNoDataFrameAfterClose(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	w := &batchWriter{conn: server, timeout: 5 * time.Second}
	go func() { _, _ = io.Copy(io.Discard, client) }()
	if _, err := w.Write([]byte{finBit | opClose, 2, 0x03, 0xe8}); err != nil {
		t.Fatalf("close frame: %v", err)
	}
	if _, err := w.writeFrames([]pubsub.Frame{{Data: []byte("late")}}); err != errCloseSent {
		t.Fatalf("data after close: err = %v, want errCloseSent", err)
	}
}
