package tenant

import (
	"encoding/json"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// APIVersion and KindTenant identify Tenant documents; the file source and the Kubernetes
// custom resource share one schema, realtimev1.TenantSpec, so a tenants file can be
// `kubectl apply`ed.
var APIVersion = realtimev1.GroupVersion.String()

// KindTenant is the kind of Tenant documents.
const KindTenant = "Tenant"

// Meta is the part of Kubernetes object metadata the tenant sources use.
type Meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Document is one `kind: Tenant` document of a tenants file. Its spec is the custom
// resource's; only the metadata is narrowed to what a file may carry.
type Document struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Metadata   Meta                  `json:"metadata"`
	Spec       realtimev1.TenantSpec `json:"spec"`
	// Status is written by the operator; the file source ignores it.
	Status json.RawMessage `json:"status,omitempty"`
}

// SecretDocument is a core v1 Secret as it appears in a tenants file.
type SecretDocument struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   Meta              `json:"metadata"`
	Type       string            `json:"type,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
	StringData map[string]string `json:"stringData,omitempty"`
}
