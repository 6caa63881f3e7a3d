package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// pool owns a set of joined bench sockets: their read loops, a shared heartbeat ticker (one
// goroutine for all sockets, so idle sockets stay under the node's 60 s idle limit), and teardown.
type pool struct {
	d     *dialer
	token string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	clients []*client
}

func newPool(parent context.Context, d *dialer, token string) *pool {
	ctx, cancel := context.WithCancel(parent)
	p := &pool{d: d, token: token, ctx: ctx, cancel: cancel}
	p.wg.Add(1)
	go p.heartbeats()
	return p
}

// connectResult summarises a batch of connect+join operations.
type connectResult struct {
	OK, Failed int
	FirstError string
	Wall       time.Duration
	Latencies  []uint32 // microseconds per successful connect+join
}

// connect opens n sockets with the given concurrency; socket i joins topicFor(i). It stops early
// after 50 failures (a misconfigured run should fail fast, not after 10,000 timeouts).
func (p *pool) connect(ctx context.Context, n, concurrency int, topicFor func(int) string) connectResult {
	var (
		res    connectResult
		mu     sync.Mutex
		next   atomic.Int64
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < min(concurrency, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() >= 50 || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				err := p.connectOne(ctx, topicFor(i))
				us := uint32(time.Since(t0).Microseconds())
				mu.Lock()
				if err != nil {
					failed.Add(1)
					res.Failed++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				} else {
					res.OK++
					res.Latencies = append(res.Latencies, us)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Wall = time.Since(start)
	return res
}

func (p *pool) connectOne(ctx context.Context, topic string) error {
	opCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := p.d.dial(opCtx)
	if err != nil {
		return err
	}
	p.add(c)
	if _, err := c.join(opCtx, topic, p.token); err != nil {
		return err
	}
	return nil
}

// add registers c and starts its read loop under the pool's context.
func (p *pool) add(c *client) {
	p.mu.Lock()
	p.clients = append(p.clients, c)
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.run(p.ctx)
	}()
}

// joinedClient dials one socket and joins it to every topic (a publisher), returning the join refs.
func (p *pool) joinedClient(ctx context.Context, topics []string) (*client, []string, error) {
	c, err := p.d.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	p.add(c)
	refs := make([]string, len(topics))
	for i, t := range topics {
		if refs[i], err = c.join(ctx, t, p.token); err != nil {
			return nil, nil, fmt.Errorf("publisher join: %w", err)
		}
	}
	return c, refs, nil
}

func (p *pool) snapshot() []*client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*client(nil), p.clients...)
}

func (p *pool) heartbeats() {
	defer p.wg.Done()
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		for _, c := range p.snapshot() {
			ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
			_ = c.heartbeat(ctx)
			cancel()
		}
	}
}

// delivered sums the deliveries counted by every socket.
func (p *pool) delivered() int64 {
	var n int64
	for _, c := range p.snapshot() {
		n += c.delivered.Load()
	}
	return n
}

// disconnected counts sockets whose read loop ended (e.g. dropped as slow consumers).
func (p *pool) disconnected() int {
	n := 0
	for _, c := range p.snapshot() {
		select {
		case <-c.closed:
			n++
		default:
		}
	}
	return n
}

func (p *pool) setRecordLatency(on bool) {
	for _, c := range p.snapshot() {
		c.recordLat.Store(on)
	}
}

func (p *pool) latencies() []uint32 {
	var all []uint32
	for _, c := range p.snapshot() {
		all = append(all, c.takeLatencies()...)
	}
	return all
}

// systemMessages returns up to max distinct system/close messages seen by any socket.
func (p *pool) systemMessages(limit int) []string {
	seen := map[string]int{}
	for _, c := range p.snapshot() {
		for _, m := range c.systemMessages() {
			seen[m]++
		}
	}
	var out []string
	for m, n := range seen {
		if len(out) == limit {
			break
		}
		out = append(out, fmt.Sprintf("%d x %s", n, m))
	}
	return out
}

// close ends every socket and waits for the read loops.
func (p *pool) close() {
	p.cancel()
	for _, c := range p.snapshot() {
		c.close()
	}
	p.wg.Wait()
}
