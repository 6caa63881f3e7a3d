package clustertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWrongSecretCannotJoin: a node with another CLUSTER_SECRET, announced through the same
// Postgres, is refused by every good node (and logged), never listed as a peer, and exchanges
// no messages with them. Its name sorts between the good ones, so links are attempted in both
// directions: node-1 dials it and it dials node-3 (the lower name dials).
func TestWrongSecretCannotJoin(t *testing.T) {
	tenants := WriteTenants(t)
	c, pg := startPostgresCluster(t, tenants)
	bad := StartNode(t, nodeBin, NodeSpec{
		Name: "node-2x", Region: "eu", IP: "127.0.0.4",
		Discovery: "postgres", DSN: pg.DSN("postgres"), ClusterName: "clustertest",
		Secret: WrongSecret, TenantsFile: tenants, DefaultTenant: DefaultTenant,
		PresencePeriod: presencePeriod, DownPeriod: downPeriod,
	})
	c.Add("nx", bad)

	// Both sides of a refused link log it: node-1 dialing the bad node finds that the acceptor's
	// proof does not match; node-3 accepting the bad node's dial refuses its proof.
	CheckFor(t, 15*time.Second, 100*time.Millisecond, func() error {
		if l := c.Nodes["n1"].Logs(); !logHas(l, "cluster peer failed authentication", bad.ClusterAddr) {
			return fmt.Errorf("node-1 has not logged a failed authentication of %s yet", bad.ClusterAddr)
		}
		// The dial's source address is the kernel's pick (127.0.0.1), so only the message tells.
		if l := c.Nodes["n3"].Logs(); !logHas(l, "refused cluster link: peer failed authentication") {
			return fmt.Errorf("node-3 has not logged refusing the wrong-secret node's link yet")
		}
		return nil
	})

	RunJS(t, "secret.test.mjs", c.Env(nil, "RT_PRESENCE_PERIOD_MS="+Millis(presencePeriod)), 60*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, id := range []string{"n1", "n2", "n3"} {
		s, err := c.Nodes[id].FetchStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(s.PeerNames(), "node-2x") {
			t.Errorf("good node %s lists the wrong-secret node as a peer: %s", id, s)
		}
		for _, r := range s.PresenceReplicas {
			if strings.Contains(r.Replica, "node-2x") {
				t.Errorf("good node %s holds a presence replica of the wrong-secret node: %s", id, s)
			}
		}
	}
	s, err := bad.FetchStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Peers) != 0 || len(s.PresenceReplicas) != 0 {
		t.Errorf("the wrong-secret node has peers or replicas: %s", s)
	}
	if err := MeshFormed(c.Nodes["n1"], c.Nodes["n2"], c.Nodes["n3"]); err != nil {
		t.Errorf("the good mesh suffered: %v", err)
	}
}

// logHas reports whether one line of a node's log contains every part.
func logHas(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
