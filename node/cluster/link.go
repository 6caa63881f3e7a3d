package cluster

import (
	"bufio"
	"net"
	"sync"
	"time"
)

// link is one authenticated connection to a peer: a reader goroutine dispatching frames in
// arrival order and a writer goroutine draining the peer's queue into batched writes.
type link struct {
	peer Member
	conn net.Conn
	br   *bufio.Reader
	// preferred: dialed by the node with the lower name. When two links to the same peer race
	// (both sides dialed), both sides keep the preferred one.
	preferred bool
	upAt      time.Time

	closeOnce  sync.Once
	closed     chan struct{}
	writerDone chan struct{}
}

func newLink(self string, peer Member, conn net.Conn, br *bufio.Reader, dialedBySelf bool) *link {
	dialer, acceptor := self, peer.Name
	if !dialedBySelf {
		dialer, acceptor = acceptor, dialer
	}
	return &link{
		peer: peer, conn: conn, br: br, preferred: dialer < acceptor, upAt: time.Now(),
		closed: make(chan struct{}), writerDone: make(chan struct{}),
	}
}

func (l *link) close() {
	l.closeOnce.Do(func() {
		close(l.closed)
		_ = l.conn.Close()
	})
}

// writeLoop sends everything queued, many frames per syscall, and a ping when idle. It first
// waits for the previous link's writer so frames never overtake older ones across a replacement.
func (l *link) writeLoop(q *sendQueue, prev *link, o *Options, met *meshMetrics) {
	defer close(l.writerDone)
	if prev != nil {
		<-prev.writerDone
	}
	bw := bufio.NewWriterSize(l.conn, 64<<10)
	ping := time.NewTicker(o.PingInterval)
	defer ping.Stop()
	var batch []outFrame
	wrote := false
	notify(q.wake) // frames queued while no link was up
	for {
		pingDue := false
		select {
		case <-l.closed:
			return
		case <-q.wake:
		case <-ping.C:
			pingDue, wrote = !wrote, false
		}
		batch = q.drain(batch)
		if len(batch) == 0 && !pingDue {
			continue
		}
		_ = l.conn.SetWriteDeadline(time.Now().Add(o.WriteTimeout))
		n := 0
		var err error
		for _, f := range batch {
			if err = writeFrame(bw, f.typ, f.payload); err != nil {
				break
			}
			n += len(f.payload)
		}
		if err == nil && len(batch) == 0 {
			err = writeFrame(bw, typePing, nil)
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			l.close() // the reader notices and the mesh redials; this batch is lost
			return
		}
		wrote = true
		met.sent.Add(float64(len(batch)))
		met.bytesSent.Add(float64(n))
	}
}

// readLoop dispatches frames until the connection fails or goes silent for DeadAfter.
func (l *link) readLoop(o *Options, dispatch func(typ byte, payload []byte)) error {
	var armed time.Time
	for {
		// Re-arming the deadline on every frame is wasted work under load; a quarter of the
		// window keeps detection within 1.25 x DeadAfter.
		if now := time.Now(); now.Sub(armed) > o.DeadAfter/4 {
			_ = l.conn.SetReadDeadline(now.Add(o.DeadAfter))
			armed = now
		}
		typ, payload, err := readFrame(l.br, o.MaxFrame)
		if err != nil {
			return err
		}
		if typ < FirstUserType {
			continue // ping
		}
		dispatch(typ, payload)
	}
}
