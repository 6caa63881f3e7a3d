package clusterchanges

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

// TestDrainKeepsDelivering: SIGTERM starts a 4 s drain that closes the node's two sockets one
// after the other; no socket is closed before the changes committed until then reached it, and
// the socket still open keeps getting every change committed meanwhile.
// Before, SIGTERM stopped the changes stream and the mesh at once, and a client still connected
// to a draining pod (kubectl drain, rolling update) silently missed those rows.
func TestDrainKeepsDelivering(t *testing.T) {
	f := newFixture(t)
	pool := f.pool
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := f.node(t, "node1", "127.0.0.1", "--drain-window", "4s")
	testutil.Eventually(t, 30*time.Second, "the node streams the tenant", func() bool { _, s := n.status(); return s })
	clients := []*client{subscribe(ctx, t, n), subscribe(ctx, t, n)}
	for _, c := range clients {
		testutil.Eventually(t, 20*time.Second, "Subscribed to PostgreSQL", func() bool { return c.Subscribed() > 0 })
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
	// A burst committed right before SIGTERM is still being decoded when the first socket is due
	// to close: without the drain's flush it was cut off.
	if _, err := pool.Exec(ctx, "insert into public.seq (id) select generate_series(1000000, 1000299)"); err != nil {
		t.Fatal(err)
	}
	burstAt := time.Now()
	mu.Lock()
	for id := int64(1000000); id < 1000300; id++ {
		committedAt[id] = burstAt
	}
	mu.Unlock()
	termAt := time.Now()
	n.kill(syscall.SIGTERM)
	time.Sleep(3 * time.Second)
	close(stop)
	<-done
	// Every row committed before SIGTERM reached both sockets, the one closed first included: the
	// drain flushes a tenant's changes before it closes a group of its sockets. The second socket
	// closes ~2 s into the drain: rows committed in the first second of it must have reached it.
	var before, during []int64
	mu.Lock()
	for id, at := range committedAt {
		switch {
		case at.Before(termAt):
			before = append(before, id)
		case at.Before(termAt.Add(time.Second)):
			during = append(during, id)
		}
	}
	mu.Unlock()
	for i, c := range clients {
		if m := c.Missing(before); len(m) > 0 {
			t.Errorf("socket %d: %d of the %d rows committed before SIGTERM never reached it (first %d)", i, len(m), len(before), m[0])
		}
	}
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

// TestDrainOfNonOwnerWaitsForTheOwner: a node that does not stream the tenant drains; before it
// closes its socket it asks the owner (over the mesh) to confirm that its stream has forwarded
// everything committed until then. A burst committed right before SIGTERM reaches the client.
func TestDrainOfNonOwnerWaitsForTheOwner(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nodes := []*node{f.node(t, "node1", "127.0.0.1", "--drain-window", "2s"), f.node(t, "node2", "127.0.0.2", "--drain-window", "2s")}
	var owner, other *node
	testutil.Eventually(t, 30*time.Second, "both nodes linked and one streaming the tenant", func() bool {
		p1, s1 := nodes[0].status()
		p2, s2 := nodes[1].status()
		switch {
		case p1 != 1 || p2 != 1 || s1 == s2:
			return false
		case s1:
			owner, other = nodes[0], nodes[1]
		default:
			owner, other = nodes[1], nodes[0]
		}
		return true
	})
	c := subscribe(ctx, t, other)
	testutil.Eventually(t, 20*time.Second, "Subscribed to PostgreSQL", func() bool { return c.Subscribed() > 0 })
	if _, err := f.pool.Exec(ctx, "insert into public.seq (id) select generate_series(1, 300)"); err != nil {
		t.Fatal(err)
	}
	other.kill(syscall.SIGTERM)
	select {
	case <-other.proc.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not stop within 20 s of SIGTERM", other.name)
	}
	var ids []int64
	for id := int64(1); id <= 300; id++ {
		ids = append(ids, id)
	}
	if m := c.Missing(ids); len(m) > 0 {
		t.Errorf("%d of 300 rows committed before %s's SIGTERM never reached its socket (owner %s; first missing %d)",
			len(m), other.name, owner.name, m[0])
	}
}
