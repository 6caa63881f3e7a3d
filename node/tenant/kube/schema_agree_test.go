package kube

import (
	"maps"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/realtimeops/realtime/node/tenant"
)

// schemaCase is one Tenant spec, given to the API server (the CRD's OpenAPI and CEL rules,
// dry-run create) and to the tenants-file parser (realtimev1.Tenant.Validate plus the node's
// resolver). name is metadata.name; edit changes a copy of the valid spec.
type schemaCase struct {
	name  string
	meta  string
	edit  func(spec map[string]any)
	field string // both errors name this field path (empty: not compared)
}

func validSpec() map[string]any {
	return map[string]any{
		"clusterRef": map[string]any{"name": "c"},
		"jwt":        map[string]any{"secretRef": map[string]any{"name": "jwt", "key": "secret"}},
		"database": map[string]any{"host": "db.example", "user": "app",
			"passwordSecretRef": map[string]any{"name": "db", "key": "password"}},
	}
}

func db(spec map[string]any) map[string]any { return spec["database"].(map[string]any) }

// The two validations must agree on every spec below: each is rejected by both.
var rejectedByBoth = []schemaCase{
	{name: "externalId not a DNS label", edit: func(s map[string]any) { s["externalId"] = "Bad_ID" }, field: "spec.externalId"},
	{name: "externalId of 64 characters", edit: func(s map[string]any) { s["externalId"] = strings.Repeat("a", 64) }, field: "spec.externalId"},
	{name: "metadata.name not a DNS label and no externalId", meta: "a.b"},
	{name: "jwt without keys", edit: func(s map[string]any) { s["jwt"] = map[string]any{} }, field: "spec.jwt"},
	{name: "jwt secretRef without key", edit: func(s map[string]any) { s["jwt"] = map[string]any{"secretRef": map[string]any{"name": "jwt"}} }, field: "spec.jwt.secretRef"},
	{name: "secret name of 254 characters", edit: func(s map[string]any) {
		s["jwt"] = map[string]any{"secretRef": map[string]any{"name": strings.Repeat("j", 254), "key": "secret"}}
	}, field: "spec.jwt.secretRef"},
	{name: "database without host", edit: func(s map[string]any) { delete(db(s), "host") }, field: "spec.database.host"},
	{name: "database host of 254 characters", edit: func(s map[string]any) { db(s)["host"] = strings.Repeat("h", 254) }, field: "spec.database.host"},
	{name: "port above 65535", edit: func(s map[string]any) { db(s)["port"] = 70000 }, field: "spec.database.port"},
	{name: "negative port", edit: func(s map[string]any) { db(s)["port"] = -1 }, field: "spec.database.port"},
	{name: "unknown sslMode", edit: func(s map[string]any) { db(s)["sslMode"] = "verify" }, field: "spec.database.sslMode"},
	{name: "region of 64 characters", edit: func(s map[string]any) { db(s)["region"] = strings.Repeat("r", 64) }, field: "spec.database.region"},
	{name: "zero maxSlotLag", edit: func(s map[string]any) { db(s)["maxSlotLag"] = "0" }, field: "spec.database.maxSlotLag"},
	{name: "negative maxSlotLag", edit: func(s map[string]any) { db(s)["maxSlotLag"] = "-1Gi" }, field: "spec.database.maxSlotLag"},
	{name: "unknown slotPolicy", edit: func(s map[string]any) { db(s)["slotPolicy"] = "never" }, field: "spec.database.slotPolicy"},
	{name: "negative failoverDelay", edit: func(s map[string]any) { s["failoverDelay"] = "-1s" }, field: "spec.failoverDelay"},
	{name: "failoverDelay over 10m", edit: func(s map[string]any) { s["failoverDelay"] = "11m" }, field: "spec.failoverDelay"},
	{name: "negative limit", edit: func(s map[string]any) { s["limits"] = map[string]any{"maxJoinsPerSecond": -1} }, field: "spec.limits.maxJoinsPerSecond"},
}

// The known differences, each with its reason; the test fails when one of them goes away, so
// that this list and the comments in api/v1alpha1/tenant_validation.go stay true.
var apiRejectsFileAccepts = []schemaCase{
	// Go reads an explicit zero as absent: the file applies the default.
	{name: "explicit zero limit", edit: func(s map[string]any) { s["limits"] = map[string]any{"maxEventsPerSecond": 0} }},
	{name: "explicit empty user", edit: func(s map[string]any) { db(s)["user"] = "" }},
	// A development database with trust auth needs no password.
	{name: "database without passwordSecretRef", edit: func(s map[string]any) { delete(db(s), "passwordSecretRef") }},
	// The file source serves whatever cluster runs it.
	{name: "no clusterRef", edit: func(s map[string]any) { delete(s, "clusterRef") }},
}

var fileRejectsAPIAccepts = []schemaCase{
	// The Kubernetes source resolves such a tenant with an error for the operator to see.
	{name: "empty key set", edit: func(s map[string]any) { s["jwt"] = map[string]any{"jwks": map[string]any{"keys": []any{}}} }},
	// The CRD defaults the switch on for every tenant; the Kubernetes source drops it without a database.
	{name: "postgresChanges without database", edit: func(s map[string]any) {
		delete(s, "database")
		s["postgresChanges"] = map[string]any{"enabled": true}
	}},
}

func (c schemaCase) spec() map[string]any {
	s := validSpec()
	if c.edit != nil {
		c.edit(s)
	}
	return s
}

func (c schemaCase) metaName() string {
	if c.meta != "" {
		return c.meta
	}
	return "t"
}

// apiErr creates the Tenant with dryRun=All: the API server runs defaulting, the OpenAPI schema
// and the CEL rules, and stores nothing.
func apiErr(t *testing.T, ns string, c schemaCase) error {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": tenant.APIVersion, "kind": tenant.KindTenant,
		"metadata": map[string]any{"name": c.metaName(), "namespace": ns},
		"spec":     c.spec(),
	}}
	_, err := dynCS.Resource(TenantGVR).Namespace(ns).Create(testCtx(t), u,
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

// fileErr parses a tenants file holding the Tenant and the Secrets the valid spec references.
func fileErr(t *testing.T, c schemaCase) error {
	t.Helper()
	doc := map[string]any{
		"apiVersion": tenant.APIVersion, "kind": tenant.KindTenant,
		"metadata": map[string]any{"name": c.metaName()},
		"spec":     c.spec(),
	}
	var b strings.Builder
	for _, d := range []map[string]any{doc,
		{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "jwt"}, "stringData": map[string]any{"secret": "s3cret"}},
		{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "db"}, "stringData": map[string]any{"password": "pw"}},
	} {
		y, err := yaml.Marshal(maps.Clone(d))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	_, err := tenant.Parse([]byte(b.String()))
	return err
}

func TestFileAndAPIServerRejectTheSameSpecs(t *testing.T) {
	ns := newNamespace(t)
	valid := schemaCase{name: "valid"}
	if err := apiErr(t, ns, valid); err != nil {
		t.Fatalf("API server rejects the valid spec: %v", err)
	}
	if err := fileErr(t, valid); err != nil {
		t.Fatalf("file rejects the valid spec: %v", err)
	}
	for _, c := range rejectedByBoth {
		t.Run(c.name, func(t *testing.T) {
			api, file := apiErr(t, ns, c), fileErr(t, c)
			if api == nil || file == nil {
				t.Fatalf("disagree: API server err = %v, file err = %v", api, file)
			}
			if c.field != "" && (!strings.Contains(api.Error(), c.field) || !strings.Contains(file.Error(), c.field)) {
				t.Fatalf("errors do not both name %s:\nAPI server: %v\nfile: %v", c.field, api, file)
			}
		})
	}
	for _, c := range apiRejectsFileAccepts {
		t.Run("known difference/"+c.name, func(t *testing.T) {
			if api, file := apiErr(t, ns, c), fileErr(t, c); api == nil || file != nil {
				t.Fatalf("want API server to reject and file to accept: API server err = %v, file err = %v", api, file)
			}
		})
	}
	for _, c := range fileRejectsAPIAccepts {
		t.Run("known difference/"+c.name, func(t *testing.T) {
			if api, file := apiErr(t, ns, c), fileErr(t, c); api != nil || file == nil {
				t.Fatalf("want file to reject and API server to accept: API server err = %v, file err = %v", api, file)
			}
		})
	}
}
