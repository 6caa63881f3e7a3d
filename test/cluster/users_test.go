package clustertest

import (
	"testing"
	"time"

	"github.com/realtimeops/realtime/test/conformance"
)

// TestConcurrentUsersSummedAcrossNodes: maxConcurrentUsers is a cluster-wide limit. Three nodes
// with static discovery, regions eu, eu, us.
func TestConcurrentUsersSummedAcrossNodes(t *testing.T) {
	limits := map[string]int{}
	for k, v := range Generous {
		limits[k] = v
	}
	limits["maxConcurrentUsers"] = 2
	tenants, err := conformance.WriteTenants(t.TempDir(), []conformance.Tenant{{ExternalID: DefaultTenant, JWTSecret: JWTSecret, Limits: limits}})
	if err != nil {
		t.Fatal(err)
	}
	c := startStaticCluster(t, tenants, threeNodes, "")
	ctl := StartControl(t, c.ProcessOps())
	RunJS(t, "users.test.mjs", c.Env(ctl), 60*time.Second)
}
