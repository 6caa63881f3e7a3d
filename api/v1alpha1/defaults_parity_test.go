package v1alpha1

import (
	"encoding/json"
	"testing"

	"github.com/realtimeops/realtime/node/tenant"
)

// The node resolves Tenants from files as well as from the API, so both must default alike.
func TestDefaultsMatchTheNode(t *testing.T) {
	api, err := json.Marshal(DefaultTenantLimits)
	if err != nil {
		t.Fatal(err)
	}
	node, err := json.Marshal(tenant.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if string(api) != string(node) {
		t.Fatalf("limit defaults differ:\napi  %s\nnode %s", api, node)
	}
	if int(DefaultDatabasePort) != tenant.DefaultDatabasePort || DefaultDatabaseName != tenant.DefaultDatabaseName ||
		DefaultDatabaseSSLMode != tenant.DefaultSSLMode {
		t.Fatalf("database defaults differ: api %d/%s/%s, node %d/%s/%s", DefaultDatabasePort, DefaultDatabaseName,
			DefaultDatabaseSSLMode, tenant.DefaultDatabasePort, tenant.DefaultDatabaseName, tenant.DefaultSSLMode)
	}
}
