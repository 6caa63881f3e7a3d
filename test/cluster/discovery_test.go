package clustertest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/realtimeops/realtime/test/conformance"
)

// TestBroadcastAndPresenceAcrossRegions: three processes discovered through a real Postgres,
// two regions; realtime-js clients on every node see each other's broadcasts and presence.
func TestBroadcastAndPresenceAcrossRegions(t *testing.T) {
	c, _ := startPostgresCluster(t, WriteTenants(t))

	// Regions travel with the handshake: each node must know where its peers are.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	want := map[string]string{"node-1": "eu", "node-2": "eu", "node-3": "us"}
	for _, id := range c.IDs {
		s, err := c.Nodes[id].FetchStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range s.Peers {
			if want[p.Name] != p.Region {
				t.Errorf("%s sees peer %s in region %q, want %q (status %s)", id, p.Name, p.Region, want[p.Name], s)
			}
		}
	}
	RunJS(t, "broadcast_presence.test.mjs", c.Env(nil), 60*time.Second)
}

// TestNodeKillAndRestart: SIGKILL a node holding presences, start a newcomer, then restart the
// dead node under the same name.
func TestNodeKillAndRestart(t *testing.T) {
	tenants := WriteTenants(t)
	c, pg := startPostgresCluster(t, tenants)
	// n4 is started by the scenario after n2 died: a newcomer must not inherit n2's presences.
	c.Add("n4", NewNode(t, nodeBin, NodeSpec{
		Name: "node-4", Region: "us", IP: "127.0.0.4",
		Discovery: "postgres", DSN: pg.DSN("postgres"), ClusterName: "clustertest",
		Secret: ClusterSecret, TenantsFile: tenants, DefaultTenant: DefaultTenant,
		PresencePeriod: presencePeriod, DownPeriod: downPeriod,
	}))
	ctl := StartControl(t, c.ProcessOps())
	RunJS(t, "failover.test.mjs", c.Env(ctl,
		"RT_DOWN_MS="+Millis(downPeriod), "RT_PRESENCE_PERIOD_MS="+Millis(presencePeriod)), 60*time.Second)
}

// TestFastRestartReplacesReplica: a node back under the same name before the down period ends
// is a new replica; the old process's presences go when the new one links, not after the
// (here long) down period.
func TestFastRestartReplacesReplica(t *testing.T) {
	const longDown = 8 * time.Second
	c, _ := startPostgresClusterWith(t, WriteTenants(t), longDown)
	ctl := StartControl(t, c.ProcessOps())
	RunJS(t, "fast_restart.test.mjs", c.Env(ctl, "RT_DOWN_MS="+Millis(longDown)), 60*time.Second)
}

// TestDiscoverySurvivesDatabaseRestart: the discovery database crashes and comes back. Links
// between nodes do not depend on it, so the mesh stays whole meanwhile; afterwards every node
// must LISTEN again, so a node started after the restart is found by all of them.
func TestDiscoverySurvivesDatabaseRestart(t *testing.T) {
	tenants := WriteTenants(t)
	c, pg := startPostgresCluster(t, tenants)
	pg.Kill()
	time.Sleep(2 * time.Second) // discovery sessions fail and start retrying with backoff
	if err := MeshFormed(c.Nodes["n1"], c.Nodes["n2"], c.Nodes["n3"]); err != nil {
		t.Fatalf("the mesh broke while the discovery database was down: %v", err)
	}
	if err := pg.Restart(); err != nil {
		t.Fatalf("restart postgres: %v", err)
	}
	c.Add("n4", StartNode(t, nodeBin, NodeSpec{
		Name: "node-4", Region: "us", IP: "127.0.0.4",
		Discovery: "postgres", DSN: pg.DSN("postgres"), ClusterName: "clustertest",
		Secret: ClusterSecret, TenantsFile: tenants, DefaultTenant: DefaultTenant,
		PresencePeriod: presencePeriod, DownPeriod: downPeriod,
	}))
	start := time.Now()
	if err := c.WaitRunningMesh(20 * time.Second); err != nil {
		t.Fatalf("a node started after the database restart was not found by everyone: %v", err)
	}
	t.Logf("node-4 linked to all after %s", time.Since(start).Round(time.Millisecond))

	// And it is a working member: a broadcast on node-1 reaches a client of node-4.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok := conformance.MustSign([]byte(JWTSecret), conformance.Claims(time.Hour))
	rx := joinOrFatal(ctx, t, c.Nodes["n4"], tok, "after-db-restart")
	defer rx.Close()
	tx := joinOrFatal(ctx, t, c.Nodes["n1"], tok, "after-db-restart")
	defer tx.Close()
	if err := tx.Send(ctx, "ping", json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	m, err := rx.Next(ctx)
	if err != nil {
		t.Fatalf("node-4 client: %v", err)
	}
	if m.Event != "ping" || string(m.Payload) != `{"n":1}` {
		t.Fatalf("node-4 client got %s %s, want ping {\"n\":1}", m.Event, m.Payload)
	}
}

func joinOrFatal(ctx context.Context, t *testing.T, n *Node, tok, sub string) *WSClient {
	t.Helper()
	c, err := DialV2(ctx, n, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Join(ctx, sub, false); err != nil {
		t.Fatal(err)
	}
	return c
}
