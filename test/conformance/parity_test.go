package conformance

import (
	"strconv"
	"testing"
	"time"
)

// TestJoinRefusalsDoNotStallTheSocket runs js/join_backoff.test.mjs against a node whose channel
// error backoff is long (1.5 s): refusals must be answered in parallel, not one after another.
func TestJoinRefusalsDoNotStallTheSocket(t *testing.T) {
	tenants, err := WriteTenants(t.TempDir(), suiteTenants())
	if err != nil {
		t.Fatal(err)
	}
	const backoff = 1500
	node := StartNode(t, NodeOptions{TenantsFile: tenants, DefaultTenant: "realtime-dev",
		Env: []string{"CHANNEL_ERROR_BACKOFF_MS=" + strconv.Itoa(backoff)}})
	env := append(suiteEnv(node, tenants), "RT_CHANNEL_ERROR_BACKOFF_MS="+strconv.Itoa(backoff))
	RunJS(t, "join_backoff.test.mjs", env, 2*time.Minute)
}
