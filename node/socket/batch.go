package socket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/realtimeops/realtime/node/pubsub"
)

// Outbound data frames bypass the WebSocket library's per-message writer (a mutex, a context
// check, a header encode and a flush per frame): the socket's writer goroutine frames every
// message it drained itself, into one pooled buffer, and writes them with a single syscall, many
// frames per wake-up as NATS and centrifuge do. The library still writes its control frames
// (pongs, close) through the same batchWriter, one whole frame per Write call (its 256-byte
// buffer holds any control frame), so frames never interleave; once it has written a close
// frame no data frame follows (RFC 6455 5.5.1). This also replaces the 4 KiB server
// bufio.Writer kept for the life of the connection by a small one plus a pooled batch buffer held
// only while writing.

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// maxPooledBatch keeps huge batches (5 MB frames) out of the pool.
const maxPooledBatch = 1 << 20

// errCloseSent is returned for data frames queued after the close frame went out.
var errCloseSent = errors.New("close frame already sent")

type batchWriter struct {
	mu        sync.Mutex
	conn      net.Conn
	closeSent bool
	timeout   time.Duration
	deadline  time.Time // the write deadline last set on conn

	// Read side (reads.go): the connection's read buffer and its poller handle.
	br  *bufio.Reader
	raw syscall.RawConn
}

// armDeadline keeps the connection's write deadline between 7/8 and all of timeout ahead.
// Setting it costs a poller timer update, so it is refreshed only once it is timeout/8 old
// instead of before every write. Callers hold w.mu.
func (w *batchWriter) armDeadline() {
	now := time.Now()
	if w.deadline.Sub(now) > w.timeout-w.timeout/8 {
		return
	}
	w.deadline = now.Add(w.timeout)
	_ = w.conn.SetWriteDeadline(w.deadline)
}

// Write is the WebSocket library's path (control frames, through its small bufio.Writer).
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return 0, errors.New("connection not hijacked")
	}
	if len(p) > 0 && p[0]&0x0f == opClose {
		w.closeSent = true
	}
	w.armDeadline()
	return w.conn.Write(p)
}

const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	finBit   = 0x80
)

// writeFrames frames every message of batch (unmasked server frames, RFC 6455 5.2) into one
// buffer and writes it with one syscall. It returns the payload bytes written.
func (w *batchWriter) writeFrames(batch []pubsub.Frame) (int, error) {
	bp := batchPool.Get().(*[]byte)
	b := (*bp)[:0]
	n := 0
	for _, f := range batch {
		b = appendFrameHeader(b, f)
		b = append(b, f.Data...)
		n += len(f.Data)
	}
	w.mu.Lock()
	var err error
	switch {
	case w.closeSent:
		err = errCloseSent
	case w.conn == nil:
		err = errors.New("connection not hijacked")
	default:
		w.armDeadline()
		_, err = w.conn.Write(b)
	}
	w.mu.Unlock()
	if cap(b) <= maxPooledBatch {
		*bp = b[:0]
		batchPool.Put(bp)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

func appendFrameHeader(b []byte, f pubsub.Frame) []byte {
	op := byte(opText)
	if f.Binary {
		op = opBinary
	}
	b = append(b, finBit|op)
	switch l := len(f.Data); {
	case l < 126:
		return append(b, byte(l))
	case l <= 0xffff:
		return append(b, 126, byte(l>>8), byte(l))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(l))
	}
}

// hijacker wraps the ResponseWriter given to websocket.Accept so the hijacked connection writes
// through a batchWriter.
type hijacker struct {
	http.ResponseWriter
	bw *batchWriter
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Flush(); err != nil {
		return nil, nil, err
	}
	h.bw.conn = conn
	h.bw.br = smallReader(brw.Reader, conn)
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			h.bw.raw = raw
		}
	}
	return conn, bufio.NewReadWriter(h.bw.br, bufio.NewWriterSize(h.bw, 256)), nil
}

// smallReader replaces the HTTP server's 4 KiB read buffer, which would stay allocated for the
// life of every idle connection, by a 512-byte one that starts with whatever the server had
// already buffered (frames a client sent right after the handshake). Large frame payloads are
// read straight into their destination, so the small buffer costs nothing on the hot path.
func smallReader(server *bufio.Reader, conn net.Conn) *bufio.Reader {
	pending := server.Buffered()
	if pending == 0 {
		return bufio.NewReaderSize(conn, 512)
	}
	pre, _ := server.Peek(pending)
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(pre)), conn), max(512, pending))
	_, _ = r.Peek(pending) // pull the pending bytes into r's buffer so Buffered() reports them
	return r
}
