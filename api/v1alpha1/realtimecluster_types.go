package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RealtimeClusterSpec declares a fleet of realtime nodes spread over regions.
//
// +kubebuilder:validation:XValidation:rule="!has(self.regionMapping) || self.regionMapping.all(k, self.regions.exists(r, r.name == self.regionMapping[k]))",message="every regionMapping value must be the name of a region in spec.regions"
type RealtimeClusterSpec struct {
	// Image of the realtime node container. Defaults to the node image the operator was released
	// with (its --node-image flag, set by the chart to nodeImage at the chart's appVersion).
	// +kubebuilder:validation:MinLength=1
	// +optional
	Image string `json:"image,omitempty"`

	// ImagePullPolicy of the node container.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +kubebuilder:default=IfNotPresent
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets used to pull the node image.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// Regions where nodes run. Each region gets its own StatefulSet pinned to that region.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(r, self.exists_one(x, x.name == r.name))",message="region names must be unique"
	Regions []RegionSpec `json:"regions"`

	// RegionMapping maps a tenant database region (e.g. "eu-central-1") to the name of a node
	// region of this cluster (e.g. "eu-west"). A tenant whose database region is neither a node
	// region nor a key here is placed on the node region with the lowest measured round-trip time,
	// else on any ready node.
	// +kubebuilder:validation:MaxProperties=256
	// +optional
	RegionMapping map[string]string `json:"regionMapping,omitempty"`

	// Placement tunes how measured round-trip times place tenants.
	// +optional
	Placement *PlacementSpec `json:"placement,omitempty"`

	// Discovery says how nodes find each other.
	// +kubebuilder:default={mode: dns}
	// +optional
	Discovery DiscoverySpec `json:"discovery,omitempty"`

	// Service exposes the nodes to clients (WebSocket and REST).
	// +kubebuilder:default={}
	// +optional
	Service ServiceSpec `json:"service,omitempty"`

	// TLS serves the node port with the certificate of a kubernetes.io/tls Secret.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// LogLevel of the nodes.
	// +kubebuilder:validation:Enum=debug;info;warn;error
	// +kubebuilder:default=info
	// +optional
	LogLevel string `json:"logLevel,omitempty"`

	// Metrics of the nodes (Prometheus text format).
	// +kubebuilder:default={}
	// +optional
	Metrics MetricsSpec `json:"metrics,omitempty"`

	// Inspector serves the inspector page (GET /inspector) on every node; off when unset.
	// +optional
	Inspector *InspectorSpec `json:"inspector,omitempty"`

	// PodTemplate adds metadata and scheduling settings to every node pod.
	// +optional
	PodTemplate PodTemplateOverrides `json:"podTemplate,omitempty"`

	// NetworkPolicy restricts who reaches the node pods.
	// +optional
	NetworkPolicy *NetworkPolicySpec `json:"networkPolicy,omitempty"`

	// ClusterSecretRef is the shared secret nodes use to authenticate inter-node links (at least
	// 16 bytes). When unset the operator generates one: the Secret "<name>-cluster-secret" (key
	// "secret", 32 random bytes), owned by the RealtimeCluster; status.clusterSecretName names it.
	// +optional
	ClusterSecretRef *SecretKeySelector `json:"clusterSecretRef,omitempty"`
}

// PlacementSpec tunes placement by measured round-trip time (node/placement).
type PlacementSpec struct {
	// RTTMarginMs: the database's labelled region keeps a tenant while its RTT is within this
	// many ms of the lowest measured RTT, and pods within it of the best are equally good.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=5
	// +optional
	RTTMarginMs *int32 `json:"rttMarginMs,omitempty"`
	// RTTHold: a healthy owner moves for a lower RTT only after the gain (at least 10 ms and 20%)
	// held this long in the operator's view, on top of the nodes' own hold on their figures
	// (RTT_HOLD, 2m). Default 0: the nodes' hold alone.
	// +optional
	RTTHold *metav1.Duration `json:"rttHold,omitempty"`
}

// RegionSpec is one region of nodes.
//
// +kubebuilder:validation:XValidation:rule="self.replicas >= 2",message="each region needs at least 2 replicas so that a tenant can fail over inside its region"
type RegionSpec struct {
	// Name of the region; it is the value of the topology label of the Kubernetes nodes of the
	// region unless NodeSelector is given, and part of the StatefulSet name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Replicas is the number of nodes in the region (at least 2).
	// +kubebuilder:validation:Maximum=1000
	Replicas int32 `json:"replicas"`

	// NodeSelector pins the region's pods to Kubernetes nodes. When empty, pods are pinned with
	// a required node affinity TopologyLabel=Name.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// TopologyLabel is the Kubernetes node label holding the region.
	// +kubebuilder:default="topology.kubernetes.io/region"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	TopologyLabel string `json:"topologyLabel,omitempty"`

	// Resources of the node container; when empty, requests of 250m CPU and 256Mi memory and a
	// 1Gi memory limit (no CPU limit: throttling a node delays every client's heartbeat).
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// ZoneSpread spreads the region's pods over zones (topology.kubernetes.io/zone).
	// +kubebuilder:default=true
	// +optional
	ZoneSpread *bool `json:"zoneSpread,omitempty"`
}

// RealtimeClusterStatus is the observed state of the cluster.
type RealtimeClusterStatus struct {
	// ObservedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing, Degraded.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Phase summarises the conditions for kubectl: Ready, Progressing or Degraded.
	// +optional
	Phase string `json:"phase,omitempty"`

	// Nodes is "ready/desired" over all regions, for kubectl.
	// +optional
	Nodes string `json:"nodes,omitempty"`

	// ConnectedClients is the number of client connections over the node pods, summed from each
	// ready pod's admin /status by the operator every few tens of seconds (absent until read;
	// pods that did not answer are left out, see ClientsObservedPods).
	// +optional
	ConnectedClients *int32 `json:"connectedClients,omitempty"`

	// ClientsObservedPods is "answered/ready" for the last ConnectedClients reading.
	// +optional
	ClientsObservedPods string `json:"clientsObservedPods,omitempty"`

	// ClientsObservedAt is when ConnectedClients was read.
	// +optional
	ClientsObservedAt *metav1.Time `json:"clientsObservedAt,omitempty"`

	// ReadyReplicas counts the ready node pods of all regions.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// Replicas is the desired number of node pods of all regions.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// Regions holds per-region counts, in spec order.
	// +listType=map
	// +listMapKey=name
	// +optional
	Regions []RegionStatus `json:"regions,omitempty"`

	// ReadyNodes lists the ready node pods, sorted by region then name.
	// +optional
	ReadyNodes []NodeStatus `json:"readyNodes,omitempty"`

	// RegionNames lists every region of the spec, comma-separated, for kubectl (a printer column
	// shows only the first match of a JSONPath over a list).
	// +optional
	RegionNames string `json:"regionNames,omitempty"`

	// ClusterSecretName is the Secret holding the inter-node secret (spec.clusterSecretRef's, or
	// the one the operator generated).
	// +optional
	ClusterSecretName string `json:"clusterSecretName,omitempty"`
}

// RegionStatus counts the pods of one region.
type RegionStatus struct {
	// Name of the region.
	Name string `json:"name"`
	// StatefulSet running the region's pods.
	// +optional
	StatefulSet string `json:"statefulSet,omitempty"`
	// Desired number of pods.
	Desired int32 `json:"desired"`
	// Ready number of pods.
	Ready int32 `json:"ready"`
}

// NodeStatus is one ready node pod.
type NodeStatus struct {
	// Name of the pod.
	Name string `json:"name"`
	// Region of the pod.
	Region string `json:"region"`
	// PodIP of the pod.
	// +optional
	PodIP string `json:"podIP,omitempty"`
}

// RealtimeCluster is a fleet of realtime nodes spread over regions.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rtc;rtcluster,categories=realtime
// +kubebuilder:printcolumn:name="Regions",type=string,JSONPath=`.status.regionNames`
// +kubebuilder:printcolumn:name="Nodes",type=string,JSONPath=`.status.nodes`,description="ready/desired node pods"
// +kubebuilder:printcolumn:name="Clients",type=integer,JSONPath=`.status.connectedClients`,description="client connections over the node pods"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.spec.regions.all(r, size(self.metadata.name) + size(r.name) <= 50)",message="cluster name plus region name must be at most 50 characters (they name the region's StatefulSet)"
// +kubebuilder:validation:XValidation:rule="!self.metadata.name.endsWith('-nodes')",message="cluster name must not end in -nodes: <name>-nodes is the headless Service of the cluster <name>"
type RealtimeCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RealtimeClusterSpec   `json:"spec"`
	Status RealtimeClusterStatus `json:"status,omitempty"`
}

// RealtimeClusterList is a list of RealtimeCluster.
//
// +kubebuilder:object:root=true
type RealtimeClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RealtimeCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RealtimeCluster{}, &RealtimeClusterList{})
}
