package controllers

import (
	"testing"
	"time"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	nc "github.com/realtimeops/realtime/node/nodeconfig"
)

// TestInspectorEnv: spec.inspector turns on the nodes' /inspector through the node's own
// configuration contract, with the admin token from its Secret; unset, the nodes serve none.
func TestInspectorEnv(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      *realtimev1.InspectorSpec
		on        bool
		withAdmin bool
	}{
		{"unset", nil, false, false},
		{"disabled", &realtimev1.InspectorSpec{Enabled: false}, false, false},
		{"tenant JWTs only", &realtimev1.InspectorSpec{Enabled: true}, true, false},
		{"with admin token", &realtimev1.InspectorSpec{Enabled: true,
			AdminTokenSecretRef: &realtimev1.SecretKeySelector{Name: "inspector", Key: "token"}}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := builderCluster(func(c *realtimev1.RealtimeCluster) { c.Spec.Inspector = tc.spec })
			ctr := buildStatefulSet(c, c.Spec.Regions[0], "hash").Spec.Template.Spec.Containers[0]
			env := map[string]string{}
			for _, e := range ctr.Env {
				switch {
				case e.ValueFrom == nil:
					env[e.Name] = e.Value
				case e.ValueFrom.SecretKeyRef != nil && e.Name == nc.EnvInspectorAdminToken:
					if ref := e.ValueFrom.SecretKeyRef; ref.Name != "inspector" || ref.Key != "token" {
						t.Errorf("admin token from %s/%s", ref.Name, ref.Key)
					}
					env[e.Name] = "inspector-admin-token-0123456789"
				case e.ValueFrom.SecretKeyRef != nil:
					env[e.Name] = "generated-inter-node-secret-0123456789"
				case e.ValueFrom.FieldRef != nil:
					env[e.Name] = map[string]string{"metadata.name": "rt-0", "metadata.namespace": "ns", "status.podIP": "10.0.0.1"}[e.ValueFrom.FieldRef.FieldPath]
				}
			}
			cfg, err := nc.Load(ctr.Args, func(k string) string { return env[k] }, time.Second)
			if err != nil {
				t.Fatalf("node config: %v", err)
			}
			if cfg.Inspector != tc.on || (cfg.InspectorAdminToken != "") != tc.withAdmin {
				t.Errorf("inspector %v admin %q, want %v admin %v", cfg.Inspector, cfg.InspectorAdminToken, tc.on, tc.withAdmin)
			}
		})
	}
}
