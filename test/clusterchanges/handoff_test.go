package clusterchanges

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/node/placement"
)

// TestSubscribersSurviveEarlyOwnerHandoff: a client subscribes on a node while that node is alone
// (and so streams the tenant); more nodes join and the tenant's WAL work may move to one of them.
// The client must keep receiving every committed row (seen on a real cluster: a node that held a
// tenant for a moment at start gave its subscribers none of that tenant's changes afterwards).
func TestSubscribersSurviveEarlyOwnerHandoff(t *testing.T) {
	f := newFixture(t)
	pool := f.pool
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Name the first node so that it loses the tenant to one of the later ones (rendezvous
	// hashing over the members, node/placement): the WAL work must move.
	name := ""
	for i := 0; name == ""; i++ {
		if c := fmt.Sprintf("early%d", i); placement.Highest(tenantID, []string{c, "node2", "node3"}) != c {
			name = c
		}
	}
	first := f.node(t, name, "127.0.0.1")
	testutil.Eventually(t, 30*time.Second, "the first node streams the tenant alone", func() bool { _, s := first.status(); return s })
	early := subscribe(ctx, t, first)
	testutil.Eventually(t, 20*time.Second, "Subscribed to PostgreSQL on the first node", func() bool { return early.Subscribed() > 0 })
	nodes := []*node{first}
	for i, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		nodes = append(nodes, f.node(t, fmt.Sprintf("node%d", i+2), ip))
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
	t.Logf("owner after the joins: %s", owner.name)
	var ids []int64
	for id := int64(1); id <= 200; id++ {
		if _, err := pool.Exec(ctx, "insert into public.seq (id) values ($1)", id); err != nil {
			t.Fatalf("insert: %v", err)
		}
		ids = append(ids, id)
	}
	var missing []int64
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if missing = early.Missing(ids); len(missing) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("the client subscribed while the first node streamed alone misses %d of %d rows after the handoff to %s; system: %s",
			len(missing), len(ids), owner.name, early.SystemText())
	}
}
