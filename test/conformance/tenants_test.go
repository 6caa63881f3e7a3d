package conformance

import (
	"testing"

	"github.com/realtimeops/realtime/node/tenant"
)

// TestRenderTenantsParses keeps the harness's tenants file in step with the node's parser, so a
// format change fails here with a clear message instead of as a node that will not start.
func TestRenderTenantsParses(t *testing.T) {
	in := []Tenant{
		{ExternalID: "plain", JWTSecret: "s1"},
		{ExternalID: "limited", JWTSecret: "s2", Suspend: true, PrivateOnly: true, PresenceEnabled: true,
			Limits: map[string]int{"maxChannelsPerClient": 1, "maxPayloadSizeInKb": 2}},
		{ExternalID: "withdb", JWTSecret: "s3", Database: &Database{Host: "127.0.0.1", Port: 54329,
			Name: "postgres", User: "postgres", Password: "pw \"quoted\"", PostgresChanges: true}},
	}
	got, err := tenant.Parse([]byte(RenderTenants(in)))
	if err != nil {
		t.Fatalf("node/tenant.Parse rejects the rendered file: %v\n%s", err, RenderTenants(in))
	}
	byID := map[string]*tenant.Tenant{}
	for _, tt := range got {
		byID[tt.ExternalID] = tt
	}
	if len(byID) != len(in) {
		t.Fatalf("parsed %d tenants, want %d", len(byID), len(in))
	}
	if p := byID["plain"]; string(p.JWTSecret) != "s1" || p.Suspend || p.Database != nil {
		t.Errorf("plain: %+v", p)
	}
	l := byID["limited"]
	if !l.Suspend || !l.PrivateOnly || !l.PresenceEnabled || l.Limits.MaxChannelsPerClient != 1 || l.Limits.MaxPayloadSizeKB != 2 {
		t.Errorf("limited: %+v", l)
	}
	d := byID["withdb"]
	if d.Database == nil || d.Database.Port != 54329 || d.Database.Password != "pw \"quoted\"" || !d.PostgresChanges {
		t.Errorf("withdb: %+v / %+v", d, d.Database)
	}
}
