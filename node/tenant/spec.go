package tenant

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIVersion and KindTenant identify Tenant documents; the file source and the Kubernetes
// custom resource share this exact shape so a tenants file can be `kubectl apply`ed.
const (
	APIVersion = "realtime.realtimeops.io/v1alpha1"
	KindTenant = "Tenant"
)

// Meta is the part of Kubernetes object metadata the tenant sources use.
type Meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// TenantDocument is one `kind: Tenant` document / custom resource.
type TenantDocument struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   Meta       `json:"metadata"`
	Spec       TenantSpec `json:"spec"`
	// Status is written by the operator; the file source ignores it.
	Status json.RawMessage `json:"status,omitempty"`
}

// TenantSpec is Tenant.spec.
type TenantSpec struct {
	// ClusterRef names the RealtimeCluster serving the tenant; ignored by the file source.
	ClusterRef *LocalObjectReference `json:"clusterRef,omitempty"`
	// ExternalID defaults to metadata.name; it must be a DNS label (clients use it as Host label).
	ExternalID      string               `json:"externalId,omitempty"`
	Suspend         bool                 `json:"suspend,omitempty"`
	PrivateOnly     bool                 `json:"privateOnly,omitempty"`
	PresenceEnabled bool                 `json:"presenceEnabled,omitempty"`
	JWT             JWTSpec              `json:"jwt"`
	Database        *DatabaseSpec        `json:"database,omitempty"`
	PostgresChanges *PostgresChangesSpec `json:"postgresChanges,omitempty"`
	FailoverDelay   *metav1.Duration     `json:"failoverDelay,omitempty"`
	Limits          Limits               `json:"limits,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name"`
}

// SecretKeyRef selects one key of a core v1 Secret in the tenant's namespace.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// JWTSpec holds the tenant's verification keys: an HS* secret, a JWKS, or both.
type JWTSpec struct {
	SecretRef *SecretKeyRef `json:"secretRef,omitempty"`
	// JWKS is an inline JSON Web Key Set object ({"keys":[...]}).
	JWKS json.RawMessage `json:"jwks,omitempty"`
}

// DatabaseSpec is the tenant's Postgres database; the password comes from a Secret.
type DatabaseSpec struct {
	Host              string        `json:"host"`
	Port              int           `json:"port,omitempty"`
	Name              string        `json:"name,omitempty"`
	User              string        `json:"user"`
	PasswordSecretRef *SecretKeyRef `json:"passwordSecretRef,omitempty"`
	SSLMode           string        `json:"sslMode,omitempty"`
	Region            string        `json:"region,omitempty"`
}

// PostgresChangesSpec switches Postgres Changes (WAL streaming) on for the tenant.
type PostgresChangesSpec struct {
	Enabled bool `json:"enabled"`
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
