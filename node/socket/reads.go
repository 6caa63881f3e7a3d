package socket

import (
	"context"
	"errors"
	"syscall"
)

// An idle socket is one goroutine parked in the poller, and its stack is most of what the
// connection costs: a goroutine's stack grows to the deepest call it ever made and shrinks only
// during a GC, which an idle node does not run. Reading a frame (the WebSocket library's reader,
// io.ReadAll), decoding it and handling it (joins: config decode, JWT verification,
// authorization; publishes: the fan-out) grow a stack to 4-8 KiB. So the socket's own goroutine
// never does that work: it waits for the connection to become readable through a shallow
// syscall.RawConn wait (2 KiB), then a short-lived helper reads and handles every frame already
// received while the loop waits for it, so frames are still handled one at a time and in order.
// A goroutine costs well under a microsecond, against a join's JWT check or a publish's fan-out.

// waitReadable returns once the connection has data (or EOF, or an error) to read. Bytes already
// in the read buffer count: the poller would not report them again.
func (w *batchWriter) waitReadable() error {
	if w.br != nil && w.br.Buffered() > 0 {
		return nil
	}
	if w.raw == nil {
		return nil // not a raw-capable connection: the helper's read blocks instead
	}
	var peek [1]byte
	err := w.raw.Read(func(fd uintptr) bool {
		// Peek without consuming: EAGAIN means "not yet" and parks in the poller; data, EOF (0)
		// or an error all mean the helper's read should run.
		_, _, err := syscall.Recvfrom(int(fd), peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN)
	})
	if err != nil {
		return err
	}
	return nil
}

// readBuffered reads and handles, on a helper goroutine, one frame and then every further frame
// already buffered, and returns the read error that ends the connection, if any.
func (s *Socket) readBuffered() error {
	done := make(chan error, 1)
	go func() {
		done <- s.readFrames()
	}()
	return <-done
}

func (s *Socket) readFrames() error {
	m := s.opts.Metrics
	for {
		typ, data, err := s.ws.Read(context.Background())
		if err != nil {
			return err
		}
		s.idle.Reset(s.opts.IdleTimeout)
		m.InputBytes.Add(float64(len(data)))
		s.tm.in.Add(float64(len(data)))
		s.handleFrame(typ, data)
		if s.bw.br == nil || s.bw.br.Buffered() == 0 {
			return nil
		}
	}
}
