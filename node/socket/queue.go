package socket

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/pubsub"
)

// outQueue is the socket's bounded outbound queue. There is no idle writer goroutine: push starts
// one when the queue goes from empty to non-empty, and it exits once the queue is drained. A client
// that cannot keep up (queue over its bound) is disconnected; the publisher never blocks.
type outQueue struct {
	s       *Socket
	mu      sync.Mutex
	frames  []pubsub.Frame
	spare   []pubsub.Frame
	bytes   int
	writing bool
	closed  bool
	drained chan struct{} // closed when the writer goes idle; nil while idle
}

func (q *outQueue) push(f pubsub.Frame) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	o := q.s.opts
	if len(q.frames) >= o.QueueFrames || q.bytes+len(f.Data) > o.QueueBytes {
		q.closed = true
		q.frames, q.bytes = nil, 0
		q.mu.Unlock()
		o.Metrics.SlowConsumers.Inc()
		q.s.log.Warn("slow consumer disconnected", "code", "SlowConsumer", "queued_frames", o.QueueFrames)
		go q.s.ws.Close(websocket.StatusTryAgainLater, "slow consumer")
		return
	}
	q.frames = append(q.frames, f)
	q.bytes += len(f.Data)
	start := !q.writing
	if start {
		q.writing = true
		q.drained = make(chan struct{})
	}
	q.mu.Unlock()
	if start {
		go q.writeLoop()
	}
}

// writeLoop drains the queue: every frame taken in one round goes out in one syscall.
func (q *outQueue) writeLoop() {
	m := q.s.opts.Metrics
	for {
		q.mu.Lock()
		batch := q.frames
		if len(batch) == 0 || q.closed {
			q.writing = false
			close(q.drained)
			q.drained = nil
			q.mu.Unlock()
			return
		}
		q.frames, q.spare = q.spare[:0], nil
		q.bytes = 0
		q.mu.Unlock()

		q.s.bw.begin()
		var n int
		var err error
		for _, f := range batch {
			typ := websocket.MessageText
			if f.Binary {
				typ = websocket.MessageBinary
			}
			if err = q.s.ws.Write(context.Background(), typ, f.Data); err != nil {
				break
			}
			n += len(f.Data)
		}
		if ferr := q.s.bw.flush(); err == nil {
			err = ferr
		}
		m.OutputBytes.Add(float64(n))
		q.s.tm.out.Add(float64(n))
		m.WriteBatch.Observe(float64(len(batch)))
		clear(batch)
		q.mu.Lock()
		q.spare = batch[:0]
		q.mu.Unlock()
		if err != nil {
			q.close()
			q.s.ws.CloseNow()
		}
	}
}

func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.frames = nil
	q.mu.Unlock()
}

// waitDrained waits until the writer is idle or timeout passes.
func (q *outQueue) waitDrained(timeout time.Duration) {
	q.mu.Lock()
	ch := q.drained
	q.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-time.After(timeout):
	}
}
