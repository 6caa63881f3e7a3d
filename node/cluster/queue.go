package cluster

import "sync"

// outFrame is one queued message; payload is shared, never copied (see Mesh.Send).
type outFrame struct {
	typ     byte
	payload []byte
}

// sendQueue is a peer's bounded outbound queue. It outlives individual connections, so messages
// sent while a link is being repaired go out on the next one. push never blocks: when the queue
// is full, the new message is dropped (drop-newest keeps what is queued in order and makes the
// loss visible to the caller at once).
type sendQueue struct {
	mu       sync.Mutex
	items    []outFrame
	bytes    int
	maxItems int
	maxBytes int
	wake     chan struct{} // capacity 1: "there is something to drain"
}

func newSendQueue(maxItems, maxBytes int) *sendQueue {
	return &sendQueue{maxItems: maxItems, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// push enqueues a frame; false means it was dropped because the queue is full.
func (q *sendQueue) push(typ byte, payload []byte) bool {
	q.mu.Lock()
	if len(q.items) >= q.maxItems || (q.bytes+len(payload) > q.maxBytes && len(q.items) > 0) {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, outFrame{typ, payload})
	q.bytes += len(payload)
	q.mu.Unlock()
	notify(q.wake)
	return true
}

// drain hands every queued frame to the writer in one go, giving back spare (the previous batch,
// already written) to be reused as the new queue: steady state allocates nothing.
func (q *sendQueue) drain(spare []outFrame) []outFrame {
	clear(spare) // drop payload references of the written batch
	q.mu.Lock()
	batch := q.items
	q.items, q.bytes = spare[:0], 0
	q.mu.Unlock()
	return batch
}

// depth returns the number of queued frames (for the queue depth metric).
func (q *sendQueue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
