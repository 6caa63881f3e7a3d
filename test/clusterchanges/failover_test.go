// Package clusterchanges tests Postgres Changes across realtime-node processes: clients joined on
// nodes that do not stream the tenant's WAL get its changes, and SIGKILLing the streaming node
// loses none of them.
package clusterchanges

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

// TestWALOwnerSIGKILL: three nodes discovered through Postgres; a raw V2 client on every node
// subscribes to INSERTs; rows are committed continuously; the WAL owner is SIGKILLed; every row
// committed must reach the clients on both surviving nodes. Logs the failover time: kill → first
// row committed after the kill delivered on a surviving node.
func TestWALOwnerSIGKILL(t *testing.T) {
	f := newFixture(t)
	pool := f.pool
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var nodes []*node
	for i, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		nodes = append(nodes, f.node(t, fmt.Sprintf("node%d", i+1), ip))
	}
	var owner *node
	testutil.Eventually(t, 30*time.Second, "a full mesh with one WAL owner", func() bool {
		owner = nil
		owners := 0
		for _, n := range nodes {
			peers, streaming := n.status()
			if peers != len(nodes)-1 {
				return false
			}
			if streaming {
				owner, owners = n, owners+1
			}
		}
		return owners == 1
	})
	clients := map[*node]*client{}
	for _, n := range nodes {
		clients[n] = subscribe(ctx, t, n)
	}
	for n, c := range clients {
		testutil.Eventually(t, 20*time.Second, "Subscribed to PostgreSQL on "+n.name, func() bool { return c.Subscribed() > 0 })
	}

	var next atomic.Int64
	var mu sync.Mutex
	var committed []int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			id := next.Add(1)
			cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := pool.Exec(cctx, "insert into public.seq (id) values ($1)", id)
			ccancel()
			if err == nil {
				mu.Lock()
				committed = append(committed, id)
				mu.Unlock()
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	time.Sleep(1500 * time.Millisecond)
	lastBefore := next.Load()
	killedAt := time.Now()
	owner.kill(syscall.SIGKILL)
	<-owner.proc.Done()
	var survivors []*node
	for _, n := range nodes {
		if n != owner {
			survivors = append(survivors, n)
		}
	}
	var failover time.Duration
	testutil.Eventually(t, 30*time.Second, "a row committed after the kill", func() bool {
		for _, n := range survivors {
			if at, ok := clients[n].FirstAfter(lastBefore); ok {
				failover = at.Sub(killedAt)
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	mu.Lock()
	ids := append([]int64(nil), committed...)
	mu.Unlock()
	if len(ids) < 300 {
		t.Fatalf("only %d rows committed", len(ids))
	}
	for _, n := range survivors {
		c := clients[n]
		var missing []int64
		testutil.Eventually(t, 20*time.Second, "every committed row on "+n.name, func() bool {
			missing = c.Missing(ids)
			return len(missing) == 0
		})
	}
	t.Logf("WAL owner %s SIGKILLed; failover (kill → first row committed after the kill delivered): %s; %d rows committed, all delivered on %s and %s",
		owner.name, failover.Round(time.Millisecond), len(ids), survivors[0].name, survivors[1].name)
}
