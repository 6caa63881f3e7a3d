package presence

import (
	"fmt"
	"slices"
	"testing"
)

// TestPropertyRandomOpsConverge drives 4 replicas through thousands of random
// operations: tracks, updates, untracks, lost/duplicated/reordered deltas,
// partitions, down/up marks and node restarts. Throughout, each node's diff
// stream must add up to its List; once the network heals and every replica
// is back up, all nodes must render the same presence.
func TestPropertyRandomOpsConverge(t *testing.T) {
	seeds, steps := 30, 3000
	if testing.Short() { // quick local runs only: make test never passes -short, so CI runs all seeds
		seeds, steps = 5, 500
	}
	transfers, nonEmpty := 0, 0
	for seed := int64(1); seed <= int64(seeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := newCluster(t, 4, seed)
			for step := range steps {
				c.randomOp()
				if step%50 == 0 {
					for _, n := range c.nodes {
						n.view.assertMatches(n.tr)
					}
				}
			}
			c.heal()
			for _, n := range c.nodes {
				for j := range c.nodes {
					n.tr.ReplicaUp(c.id(j))
				}
			}
			c.settle()
			c.assertConverged()
			transfers += c.requests
			if len(c.nodes[0].tr.Topics()) > 0 {
				nonEmpty++
			}
		})
	}
	// Guard against a vacuous pass: the runs must have exercised gaps and
	// ended with presences to compare.
	if transfers == 0 || nonEmpty < seeds/2 {
		t.Fatalf("weak run: %d state transfers, %d/%d runs with presences", transfers, nonEmpty, seeds)
	}
	t.Logf("%d state transfers, %d/%d runs ended with presences", transfers, nonEmpty, seeds)
}

func (c *cluster) randomOp() {
	n := len(c.nodes)
	i := c.rng.Intn(n)
	tr := c.nodes[i].tr
	topic := fmt.Sprint("t:", c.rng.Intn(3))
	owner := Owner(c.rng.Intn(6) + 1)
	switch r := c.rng.Intn(100); {
	case r < 30:
		meta := fmt.Sprintf(`{"v":%d}`, c.rng.Intn(4))
		if err := tr.Track(topic, fmt.Sprint("key", c.rng.Intn(3)), owner, []byte(meta)); err != nil {
			c.t.Fatalf("Track: %v", err)
		}
	case r < 40:
		tr.Untrack(topic, owner)
	case r < 43:
		tr.UntrackAll(owner)
	case r < 58:
		c.broadcast(i)
	case r < 85:
		c.deliverRandom(0.2)
	case r < 88:
		if len(c.inflight) > 0 { // lost message
			k := c.rng.Intn(len(c.inflight))
			c.inflight = slices.Delete(c.inflight, k, k+1)
		}
	case r < 90:
		for j := range c.group {
			c.group[j] = c.rng.Intn(2)
		}
	case r < 92:
		c.heal()
	case r < 95:
		if j := c.rng.Intn(n); j != i {
			tr.ReplicaDown(c.id(j))
		}
	case r < 98:
		tr.ReplicaUp(c.id(c.rng.Intn(n)))
	default:
		c.restart(i)
	}
}

// restart replaces node i by a fresh replica of the same node name. Every
// node forgets the old replica, as its cluster layer would after the permdown
// period; the new node also forgets all earlier dead replicas, since stale
// transfers still in flight may mention them (the cluster layer runs down
// timers for every replica in Replicas(), relayed ones included).
func (c *cluster) restart(i int) {
	c.dead = append(c.dead, c.id(i))
	c.nodes[i] = c.newNode(c.id(i).Node)
	for _, r := range c.dead {
		c.nodes[i].tr.ReplicaPermDown(r)
	}
	for _, n := range c.nodes {
		n.tr.ReplicaPermDown(c.dead[len(c.dead)-1])
	}
}
