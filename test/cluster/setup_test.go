package clustertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/pgtest"
)

// Timing knobs of the test clusters: a short presence period makes remote presence show up fast
// and the liveness sweep fine-grained; the down period is what the failure tests assert against.
const (
	presencePeriod = 250 * time.Millisecond
	downPeriod     = 2 * time.Second
)

type nodeDef struct{ id, name, region, ip string }

// threeNodes are the standard test cluster: n1 and n2 in region eu, n3 in region us, each on its
// own loopback address.
var threeNodes = []nodeDef{
	{"n1", "node-1", "eu", "127.0.0.1"},
	{"n2", "node-2", "eu", "127.0.0.2"},
	{"n3", "node-3", "us", "127.0.0.3"},
}

// startPostgresCluster starts a throw-away Postgres and the three standard nodes discovering each
// other through it, and waits for the full mesh.
func startPostgresCluster(t *testing.T, tenants string) (*Cluster, *pgtest.Instance) {
	t.Helper()
	return startPostgresClusterWith(t, tenants, downPeriod)
}

// startPostgresClusterWith is startPostgresCluster with another presence down period.
func startPostgresClusterWith(t *testing.T, tenants string, down time.Duration) (*Cluster, *pgtest.Instance) {
	t.Helper()
	pg := pgtest.Start(t)
	c := &Cluster{}
	for _, n := range threeNodes {
		c.Add(n.id, StartNode(t, nodeBin, NodeSpec{
			Name: n.name, Region: n.region, IP: n.ip,
			Discovery: "postgres", DSN: pg.DSN("postgres"), ClusterName: "clustertest",
			Secret: ClusterSecret, TenantsFile: tenants, DefaultTenant: DefaultTenant,
			PresencePeriod: presencePeriod, DownPeriod: down,
		}))
	}
	if err := c.WaitRunningMesh(15 * time.Second); err != nil {
		t.Fatalf("mesh did not form through Postgres discovery: %v", err)
	}
	return c, pg
}

// startStaticCluster starts nodes with static discovery (each lists all the others) and waits
// for the full mesh.
func startStaticCluster(t testing.TB, tenants string, nodes []nodeDef, logLevel string) *Cluster {
	t.Helper()
	specs := make([]NodeSpec, len(nodes))
	for i, n := range nodes {
		port, err := FreePort(n.ip)
		if err != nil {
			t.Fatal(err)
		}
		specs[i] = NodeSpec{
			Name: n.name, Region: n.region, IP: n.ip, ClusterPort: port, LogLevel: logLevel,
			Discovery: "static", Secret: ClusterSecret, TenantsFile: tenants, DefaultTenant: DefaultTenant,
			PresencePeriod: presencePeriod, DownPeriod: downPeriod,
		}
	}
	for i := range specs {
		for j, o := range specs {
			if i != j {
				specs[i].Peers = append(specs[i].Peers, Peer{Name: o.Name, Region: o.Region, Addr: fmt.Sprintf("%s:%d", o.IP, o.ClusterPort)})
			}
		}
	}
	c := &Cluster{}
	for i, n := range nodes {
		c.Add(n.id, StartNode(t, nodeBin, specs[i]))
	}
	if err := c.WaitRunningMesh(15 * time.Second); err != nil {
		t.Fatalf("mesh did not form with static discovery: %v", err)
	}
	return c
}
