package clustertest

import (
	"fmt"
	"testing"
	"time"
)

// deadLink is the mesh's default dead-link timeout (cluster.Options.DeadAfter): a link that
// received nothing, not even a ping, for this long is closed.
const deadLink = 5 * time.Second

// TestPartitionAndHeal cuts the a <-> b link with a packet-dropping proxy and heals it. Static
// discovery: a's peer entry for b names the proxy; a dials b because "node-a" < "node-b" (the
// lower name dials), so every a <-> b link crosses the proxy. c ("node-c") is linked directly
// to both. All three share region eu so every broadcast goes straight from its origin to each
// node: across regions, a relay cut off from a node of its own region cannot forward to it
// (docs/protocol.md#routing has no detour), which docs/cluster.md describes.
func TestPartitionAndHeal(t *testing.T) {
	tenants := WriteTenants(t)
	specs := map[string]*NodeSpec{
		"a": {Name: "node-a", Region: "eu", IP: "127.0.0.1"},
		"b": {Name: "node-b", Region: "eu", IP: "127.0.0.2"},
		"c": {Name: "node-c", Region: "eu", IP: "127.0.0.3"},
	}
	addr := map[string]string{}
	for id, s := range specs {
		var err error
		if s.ClusterPort, err = FreePort(s.IP); err != nil {
			t.Fatal(err)
		}
		addr[id] = fmt.Sprintf("%s:%d", s.IP, s.ClusterPort)
	}
	proxy := StartProxy(t, "127.0.0.1", addr["b"])
	peer := func(id, at string) Peer { return Peer{Name: specs[id].Name, Region: specs[id].Region, Addr: at} }
	specs["a"].Peers = []Peer{peer("b", proxy.Addr), peer("c", addr["c"])}
	specs["b"].Peers = []Peer{peer("a", addr["a"]), peer("c", addr["c"])}
	specs["c"].Peers = []Peer{peer("a", addr["a"]), peer("b", addr["b"])}

	c := &Cluster{}
	for _, id := range []string{"a", "b", "c"} {
		s := specs[id]
		s.Discovery, s.Secret, s.TenantsFile, s.DefaultTenant = "static", ClusterSecret, tenants, DefaultTenant
		s.PresencePeriod, s.DownPeriod = presencePeriod, downPeriod
		c.Add(id, StartNode(t, nodeBin, *s))
	}
	if err := c.WaitRunningMesh(15 * time.Second); err != nil {
		t.Fatalf("mesh: %v (%s)", err, proxy)
	}
	if proxy.Accepted.Load() == 0 {
		t.Fatalf("the a <-> b link does not go through the proxy: %s", proxy)
	}

	ops := c.ProcessOps()
	ops["partition"] = func(map[string]string) (any, error) { proxy.Partition(); return proxy.String(), nil }
	ops["heal"] = func(map[string]string) (any, error) { proxy.Heal(); return proxy.String(), nil }
	ctl := StartControl(t, ops)
	RunJS(t, "partition.test.mjs", c.Env(ctl, "RT_DOWN_MS="+Millis(downPeriod), "RT_DEAD_LINK_MS="+Millis(deadLink)), 90*time.Second)
}
