package clusterchanges

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDrainKeepsDelivering: SIGTERM starts a 4 s drain that closes the node's two sockets one
// after the other; the socket still open must keep getting every change committed meanwhile.
// Before, SIGTERM stopped the changes stream and the mesh at once, and a client still connected
// to a draining pod (kubectl drain, rolling update) silently missed those rows.
func TestDrainKeepsDelivering(t *testing.T) {
	f := newFixture(t)
	pool := f.pool
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := f.node(t, "node1", "127.0.0.1", "--drain-window", "4s")
	waitFor(t, 30*time.Second, "the node streams the tenant", func() bool { _, s := n.status(); return s })
	clients := []*client{subscribe(ctx, t, n), subscribe(ctx, t, n)}
	for _, c := range clients {
		waitFor(t, 20*time.Second, "Subscribed to PostgreSQL", func() bool { return c.Subscribed() > 0 })
	}
	var mu sync.Mutex
	committedAt := map[int64]time.Time{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := int64(1); ; id++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := pool.Exec(ctx, "insert into public.seq (id) values ($1)", id); err == nil {
				mu.Lock()
				committedAt[id] = time.Now()
				mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	termAt := time.Now()
	n.kill(syscall.SIGTERM)
	time.Sleep(3 * time.Second)
	close(stop)
	<-done
	// The second socket closes ~2 s into the drain: rows committed in the first second of it must
	// have reached it (and everything before SIGTERM reached both).
	var during []int64
	mu.Lock()
	for id, at := range committedAt {
		if at.After(termAt) && at.Before(termAt.Add(time.Second)) {
			during = append(during, id)
		}
	}
	mu.Unlock()
	if len(during) < 20 {
		t.Fatalf("only %d rows committed in the first second of the drain", len(during))
	}
	best := len(during)
	for _, c := range clients {
		best = min(best, len(c.Missing(during)))
	}
	t.Logf("rows committed in the drain's first second: %d; missing on the socket closed last: %d", len(during), best)
	if best != 0 {
		t.Errorf("%d of %d rows committed during the drain never reached the socket that was still open", best, len(during))
	}
}
