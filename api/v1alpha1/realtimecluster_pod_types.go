package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The parts of a RealtimeClusterSpec that shape the node pods and how they are reached:
// discovery, Services, TLS, metrics, the inspector, pod overrides and the NetworkPolicy.

// DiscoveryMode is how nodes find each other.
// +kubebuilder:validation:Enum=dns;postgres
type DiscoveryMode string

const (
	// DiscoveryDNS polls the headless Service's DNS records.
	DiscoveryDNS DiscoveryMode = "dns"
	// DiscoveryPostgres uses LISTEN/NOTIFY heartbeats in a control database (docs/protocol.md#discovery).
	DiscoveryPostgres DiscoveryMode = "postgres"
)

// DiscoverySpec configures node discovery.
//
// +kubebuilder:validation:XValidation:rule="self.mode != 'postgres' || has(self.postgres)",message="discovery.postgres.secretRef is required when discovery.mode is postgres"
type DiscoverySpec struct {
	// Mode of discovery; immutable because nodes of both modes would not see each other.
	// +kubebuilder:default=dns
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="discovery.mode is immutable"
	// +optional
	Mode DiscoveryMode `json:"mode,omitempty"`

	// Postgres is the control database used by mode postgres.
	// +optional
	Postgres *PostgresDiscoverySpec `json:"postgres,omitempty"`
}

// PostgresDiscoverySpec references the control database.
type PostgresDiscoverySpec struct {
	// SecretRef selects the key of a Secret holding a libpq connection string or URL.
	SecretRef SecretKeySelector `json:"secretRef"`
}

// ServiceSpec configures the client Service.
type ServiceSpec struct {
	// Type of the client Service.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +kubebuilder:default=ClusterIP
	// +optional
	Type corev1.ServiceType `json:"type,omitempty"`

	// Port of the client Service (the pods always listen on 4000).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:default=4000
	// +optional
	Port int32 `json:"port,omitempty"`

	// Annotations of the client Service (load balancer settings).
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// TLSSpec references the serving certificate.
type TLSSpec struct {
	// SecretRef names a kubernetes.io/tls Secret (tls.crt, tls.key).
	SecretRef LocalObjectReference `json:"secretRef"`
}

// MetricsSpec configures metrics.
type MetricsSpec struct {
	// Enabled adds prometheus.io scrape annotations (scheme, admin port, /metrics) to the node
	// pods. Nodes always serve /metrics and /status on their admin port (4002), which the client
	// Service does not expose.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
}

// InspectorSpec turns on the nodes' inspector page (docs/inspector.md): join channels and watch
// traffic in a browser. It is never open: a tenant JWT or the admin token opens a session.
type InspectorSpec struct {
	// Enabled serves /inspector on the client port (INSPECTOR=true); a 404 when false.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// AdminTokenSecretRef selects the admin token (at least 16 characters,
	// INSPECTOR_ADMIN_TOKEN) that opens the node-wide view; without it only tenant JWTs open
	// the page.
	// +optional
	AdminTokenSecretRef *SecretKeySelector `json:"adminTokenSecretRef,omitempty"`
}

// PodTemplateOverrides are merged into every node pod.
type PodTemplateOverrides struct {
	// Labels added to the pods (the operator's own labels win).
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations added to the pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Tolerations of the pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// PriorityClassName of the pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
	// Env adds environment variables to the node container (after the operator's own).
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
	// TerminationGracePeriodSeconds bounds the drain window of a stopping node (default 60; the
	// node spreads its client disconnects over a third of it, at most 30 s).
	// +kubebuilder:validation:Minimum=0
	// +optional
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// AntiAffinity keeps two node pods of the cluster off one Kubernetes node: required (the
	// default: losing a host never takes two owners of a region, but a region needs as many
	// hosts as pods) or preferred (small clusters with fewer hosts than pods can run).
	// +kubebuilder:validation:Enum=required;preferred
	// +kubebuilder:default=required
	// +optional
	AntiAffinity AntiAffinityMode `json:"antiAffinity,omitempty"`
}

// AntiAffinityMode is how strictly node pods are kept apart.
type AntiAffinityMode string

// The anti-affinity modes: node pods on distinct nodes as a scheduling requirement or as a
// preference the scheduler may break.
const (
	AntiAffinityRequired  AntiAffinityMode = "required"
	AntiAffinityPreferred AntiAffinityMode = "preferred"
)

// NetworkPolicySpec configures the NetworkPolicy of the node pods: the client port (4000) is open
// to all, the inter-node port (4001) only to the node pods of the same cluster, the admin port
// (4002: /metrics, /status) only to the monitoring namespaces.
type NetworkPolicySpec struct {
	// Enabled creates the NetworkPolicy (named like the cluster); false deletes it.
	Enabled bool `json:"enabled"`
	// MonitoringNamespaceSelector selects the namespaces allowed on the admin port (default: the
	// namespace named "monitoring").
	// +optional
	MonitoringNamespaceSelector *metav1.LabelSelector `json:"monitoringNamespaceSelector,omitempty"`
}
