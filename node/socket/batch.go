package socket

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// The WebSocket library flushes its buffered writer after every frame, which costs one write
// syscall per message. We hand it a writer that, while the socket's writer goroutine drains its
// queue, collects those flushes into one buffer and writes them with a single syscall: many frames
// per wake-up, as NATS and centrifuge do. Outside a batch (pongs, close frames) writes go straight
// through. This also replaces the 4 KiB server bufio.Writer kept for the life of the connection by
// a small one plus a pooled batch buffer held only while writing.

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// maxPooledBatch keeps huge batches (5 MB frames) out of the pool.
const maxPooledBatch = 1 << 20

type batchWriter struct {
	mu       sync.Mutex
	conn     net.Conn
	batching bool
	buf      *[]byte
	timeout  time.Duration
}

func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.batching {
		*w.buf = append(*w.buf, p...)
		return len(p), nil
	}
	if w.conn == nil {
		return 0, errors.New("connection not hijacked")
	}
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.conn.Write(p)
}

// begin starts collecting writes.
func (w *batchWriter) begin() {
	w.mu.Lock()
	w.batching = true
	if w.buf == nil {
		w.buf = batchPool.Get().(*[]byte)
	}
	w.mu.Unlock()
}

// flush writes everything collected since begin in one syscall and returns the buffer to the pool.
func (w *batchWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.batching = false
	buf := w.buf
	w.buf = nil
	if buf == nil {
		return nil
	}
	var err error
	if len(*buf) > 0 {
		_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
		_, err = w.conn.Write(*buf)
	}
	if cap(*buf) <= maxPooledBatch {
		*buf = (*buf)[:0]
		batchPool.Put(buf)
	}
	return err
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
	if err := brw.Writer.Flush(); err != nil {
		return nil, nil, err
	}
	h.bw.conn = conn
	return conn, bufio.NewReadWriter(smallReader(brw.Reader, conn), bufio.NewWriterSize(h.bw, 256)), nil
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
