package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Tenant is what a scenario needs to declare about a test tenant. It is rendered into the node's
// tenants file: Tenant documents in the shape of the Tenant custom resource
// (realtime.realtimeops.io/v1alpha1) plus the Secrets they reference, like config/dev/tenants.yaml.
type Tenant struct {
	ExternalID      string
	JWTSecret       string
	Suspend         bool
	PrivateOnly     bool
	PresenceEnabled bool
	// Limits uses the CRD field names (maxChannelsPerClient, maxPayloadSizeInKb, ...).
	Limits map[string]int
	// Database is nil for Broadcast/Presence-only tenants.
	Database *Database
}

// Database is a tenant's Postgres (e.g. one started by internal/pgtest) for Postgres Changes
// and database-backed scenarios.
type Database struct {
	Host, Name, User, Password, SSLMode, Region string
	Port                                        int
	PostgresChanges                             bool
}

// RenderTenants returns the YAML tenants file for ts.
func RenderTenants(ts []Tenant) string {
	docs := make([]string, 0, 3*len(ts))
	for _, t := range ts {
		docs = append(docs, renderTenant(t), renderSecret(t.ExternalID+"-jwt", "secret", t.JWTSecret))
		if t.Database != nil {
			docs = append(docs, renderSecret(t.ExternalID+"-db", "password", t.Database.Password))
		}
	}
	return strings.Join(docs, "---\n")
}

func renderTenant(t Tenant) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata:
  name: %[1]s
spec:
  clusterRef: {name: conformance}
  externalId: %[1]s
  suspend: %[2]t
  privateOnly: %[3]t
  presenceEnabled: %[4]t
  jwt:
    secretRef: {name: %[1]s-jwt, key: secret}
`, t.ExternalID, t.Suspend, t.PrivateOnly, t.PresenceEnabled)
	if db := t.Database; db != nil {
		fmt.Fprintf(&b, `  database:
    host: %q
    port: %d
    name: %q
    user: %q
    passwordSecretRef: {name: %s-db, key: password}
    sslMode: %s
    region: %q
  postgresChanges: {enabled: %t}
`, db.Host, db.Port, db.Name, db.User, t.ExternalID, orDefault(db.SSLMode, "disable"), orDefault(db.Region, "local"), db.PostgresChanges)
	}
	if len(t.Limits) > 0 {
		b.WriteString("  limits:\n")
		keys := make([]string, 0, len(t.Limits))
		for k := range t.Limits {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "    %s: %d\n", k, t.Limits[k])
		}
	}
	return b.String()
}

func renderSecret(name, key, value string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
stringData:
  %s: %q
`, name, key, value)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// WriteTenants writes the tenants file into dir and returns its path.
func WriteTenants(dir string, ts []Tenant) (string, error) {
	path := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(path, []byte(RenderTenants(ts)), 0o600); err != nil {
		return "", fmt.Errorf("write tenants file: %w", err)
	}
	return path, nil
}
