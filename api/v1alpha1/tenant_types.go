package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TenantSpec declares one tenant (project) served by a RealtimeCluster. The node's standalone
// tenants file uses the same YAML, so field names are part of a file format: keep them stable.
//
// +kubebuilder:validation:XValidation:rule="has(self.externalId) == has(oldSelf.externalId) && (!has(self.externalId) || self.externalId == oldSelf.externalId)",message="externalId is immutable: it names the tenant's host and replication slot"
type TenantSpec struct {
	// ClusterRef names the RealtimeCluster (same namespace) serving the tenant.
	ClusterRef LocalObjectReference `json:"clusterRef"`

	// ExternalID is the first DNS label of the host clients connect to (defaults to
	// metadata.name). It also names the tenant's replication slot.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="externalId must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit"
	// +optional
	ExternalID string `json:"externalId,omitempty"`

	// Suspend rejects connections and broadcasts, and stops the tenant's WAL work.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// PrivateOnly rejects public channels.
	// +optional
	PrivateOnly bool `json:"privateOnly,omitempty"`

	// PresenceEnabled turns presence on for channels that do not ask for it.
	// +optional
	PresenceEnabled bool `json:"presenceEnabled,omitempty"`

	// JWT verifies client tokens: an HS256 secret, a JWKS, or both.
	JWT JWTSpec `json:"jwt"`

	// Database is the tenant's Postgres (needed for Postgres Changes, database broadcasts,
	// private channels). Without it the tenant has Broadcast and Presence only.
	// +optional
	Database *DatabaseSpec `json:"database,omitempty"`

	// PostgresChanges turns Postgres Changes on or off.
	// +kubebuilder:default={enabled: true}
	// +optional
	PostgresChanges PostgresChangesSpec `json:"postgresChanges,omitempty"`

	// FailoverDelay is added to the expiry of the owner's lease before the WAL work moves: a Go
	// duration ("30s", "1m30s") between 0s and 10m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) <= duration('10m')",message="failoverDelay must be at most 10m"
	// +optional
	FailoverDelay *metav1.Duration `json:"failoverDelay,omitempty"`

	// Limits are the per-tenant limits of the protocol (docs/protocol.md#limits).
	// +kubebuilder:default={}
	// +optional
	Limits TenantLimits `json:"limits,omitempty"`
}

// JWTSpec holds the token verification keys.
//
// +kubebuilder:validation:XValidation:rule="has(self.secretRef) || has(self.jwks)",message="jwt needs secretRef (HS256 secret) or jwks, or both"
type JWTSpec struct {
	// SecretRef selects the HS256 secret.
	// +optional
	SecretRef *SecretKeySelector `json:"secretRef,omitempty"`

	// JWKS is an inline JSON Web Key Set ({"keys": [...]}) for RS256/ES256 tokens.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	JWKS *apiextensionsv1.JSON `json:"jwks,omitempty"`
}

// DatabaseSpec is the tenant's Postgres database.
type DatabaseSpec struct {
	// Host of the database.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host"`

	// Port of the database.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:default=5432
	// +optional
	Port int32 `json:"port,omitempty"`

	// Name of the database.
	// +kubebuilder:default=postgres
	// +kubebuilder:validation:MinLength=1
	// +optional
	Name string `json:"name,omitempty"`

	// User to connect as (needs REPLICATION for Postgres Changes).
	// +kubebuilder:default=postgres
	// +kubebuilder:validation:MinLength=1
	// +optional
	User string `json:"user,omitempty"`

	// PasswordSecretRef selects the password.
	PasswordSecretRef SecretKeySelector `json:"passwordSecretRef"`

	// SSLMode is the libpq sslmode.
	// +kubebuilder:validation:Enum=disable;allow;prefer;require;verify-ca;verify-full
	// +kubebuilder:default=require
	// +optional
	SSLMode string `json:"sslMode,omitempty"`

	// Region of the database (e.g. "eu-central-1"); placement puts the tenant's WAL work on a
	// node of this region, else of the region the cluster's regionMapping gives.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Region string `json:"region,omitempty"`

	// MaxSlotLag is how much WAL (bytes) the tenant's replication slot may retain before the
	// Tenant reports SlotLagWithinLimit=False with a warning event (default 1Gi).
	// +kubebuilder:default="1Gi"
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).isGreaterThan(quantity('0'))",message="maxSlotLag must be a positive quantity of bytes, e.g. 1Gi"
	// +optional
	MaxSlotLag *resource.Quantity `json:"maxSlotLag,omitempty"`

	// SlotPolicy says what happens to the replication slot while the tenant is suspended:
	// dropWhenSuspended (default) drops it, so a suspended tenant retains no WAL; keep keeps it
	// (changes made while suspended are delivered on resume) and the lag keeps being watched.
	// The slot is always dropped when the Tenant is deleted or its database is removed or moved.
	// +kubebuilder:validation:Enum=dropWhenSuspended;keep
	// +kubebuilder:default=dropWhenSuspended
	// +optional
	SlotPolicy SlotPolicy `json:"slotPolicy,omitempty"`
}

// SlotPolicy is the WAL-retention rule of a suspended tenant's replication slot.
type SlotPolicy string

const (
	// SlotDropWhenSuspended drops the slot while the tenant is suspended.
	SlotDropWhenSuspended SlotPolicy = "dropWhenSuspended"
	// SlotKeep keeps the slot while the tenant is suspended.
	SlotKeep SlotPolicy = "keep"
)

// PostgresChangesSpec toggles Postgres Changes.
type PostgresChangesSpec struct {
	// Enabled turns Postgres Changes on.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
}

// TenantLimits are the per-tenant limits of docs/protocol.md#limits; zero or absent means the default.
type TenantLimits struct {
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=200
	// +optional
	MaxConcurrentUsers int32 `json:"maxConcurrentUsers,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=100
	// +optional
	MaxEventsPerSecond int32 `json:"maxEventsPerSecond,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=100
	// +optional
	MaxJoinsPerSecond int32 `json:"maxJoinsPerSecond,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=100
	// +optional
	MaxChannelsPerClient int32 `json:"maxChannelsPerClient,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=100000
	// +optional
	MaxBytesPerSecond int32 `json:"maxBytesPerSecond,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1000
	// +optional
	MaxPresenceEventsPerSecond int32 `json:"maxPresenceEventsPerSecond,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=3000
	// +optional
	MaxPayloadSizeInKb int32 `json:"maxPayloadSizeInKb,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	// +optional
	MaxClientPresenceEventsPerWindow int32 `json:"maxClientPresenceEventsPerWindow,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=30000
	// +optional
	ClientPresenceWindowMs int32 `json:"clientPresenceWindowMs,omitempty"`
}

// TenantStatus is the observed state of a tenant.
type TenantStatus struct {
	// ObservedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, ClusterFound, SecretsResolved, Assigned, OwnerLeaseHeld,
	// DatabaseReachable, ReplicationStreaming, SlotLagWithinLimit.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ExternalID is the effective external id (spec.externalId or metadata.name).
	// +optional
	ExternalID string `json:"externalId,omitempty"`

	// Replication says which node owns the tenant's WAL work and how its slot is doing.
	// +optional
	Replication *ReplicationStatus `json:"replication,omitempty"`

	// SlotDatabase is the database where the tenant's replication slot may exist: the operator
	// drops the slot there when spec.database is removed or points elsewhere, and on deletion.
	// +optional
	SlotDatabase *SlotDatabase `json:"slotDatabase,omitempty"`
}

// SlotDatabase locates a replication slot (connection settings only; the password stays in
// its Secret).
type SlotDatabase struct {
	Host string `json:"host"`
	Port int32  `json:"port"`
	Name string `json:"name"`
	User string `json:"user"`
	// +optional
	SSLMode string `json:"sslMode,omitempty"`
	// PasswordSecretRef selects the password.
	PasswordSecretRef SecretKeySelector `json:"passwordSecretRef"`
	// Slot is the slot's name.
	Slot string `json:"slot"`
}

// ReplicationStatus is the assignment of the tenant's WAL work. The node named here is the only
// one allowed to acquire the Lease "tenant-<metadata.name>" and stream the replication slot.
type ReplicationStatus struct {
	// Node is the owner pod's name.
	// +optional
	Node string `json:"node,omitempty"`
	// Region of the owner pod.
	// +optional
	Region string `json:"region,omitempty"`
	// Since is when the owner was assigned.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
	// Reason of the placement (SameRegion, MappedRegion, LowestRTT, AnyRegion).
	// +optional
	Reason string `json:"reason,omitempty"`
	// LastMove records the most recent change of owner.
	// +optional
	LastMove *MoveRecord `json:"lastMove,omitempty"`
	// RTT is the owner pod's measured round-trip time to the database (e.g. "0.4ms"), as the
	// pod publishes it in its RTT Lease; empty when not measured.
	// +optional
	RTT string `json:"rtt,omitempty"`
	// RTTByRegion is, per node region, the pod with the lowest measured RTT to the database.
	// Rewritten only when a figure changed by more than 2 ms and 20%, or the set changed.
	// +optional
	// +listType=map
	// +listMapKey=region
	RTTByRegion []RegionRTT `json:"rttByRegion,omitempty"`
	// PendingMove is a move for a lower RTT that waits for the cluster's RTT hold.
	// +optional
	PendingMove *PendingMove `json:"pendingMove,omitempty"`

	// The fields below are observed by the operator in the tenant's database
	// (pg_replication_slots) every 15 s (--tenant-health-interval).

	// Slot is the name of the tenant's logical replication slot.
	// +optional
	Slot string `json:"slot,omitempty"`
	// Active is whether a node is streaming from the slot.
	// +optional
	Active bool `json:"active,omitempty"`
	// ConfirmedLSN is the slot's confirmed_flush_lsn: changes up to it were delivered.
	// +optional
	ConfirmedLSN string `json:"confirmedLSN,omitempty"`
	// LagBytes is the WAL the slot retains: pg_current_wal_lsn() - restart_lsn.
	// +optional
	LagBytes *int64 `json:"lagBytes,omitempty"`
	// Lag is LagBytes for humans (e.g. "12Mi").
	// +optional
	Lag string `json:"lag,omitempty"`
	// WALStatus is pg_replication_slots.wal_status (reserved, extended, unreserved, lost).
	// +optional
	WALStatus string `json:"walStatus,omitempty"`
	// SafeWALSize is pg_replication_slots.safe_wal_size: bytes of WAL that can still be written
	// before the slot is in danger of losing WAL (absent when max_slot_wal_keep_size is -1).
	// +optional
	SafeWALSize *int64 `json:"safeWALSize,omitempty"`
	// LastAdvance is the last time the operator saw the confirmed LSN move: the owner received
	// and delivered changes (or keepalives) up to then.
	// +optional
	LastAdvance *metav1.Time `json:"lastAdvance,omitempty"`
	// CheckedAt is when the slot was last observed (refreshed at least every 5 minutes when
	// nothing changes, to spare the API a write per check).
	// +optional
	CheckedAt *metav1.Time `json:"checkedAt,omitempty"`
}

// RegionRTT is one row of the RTT table.
type RegionRTT struct {
	// Region of the node pods.
	Region string `json:"region"`
	// Node is the region's ready pod with the lowest RTT.
	Node string `json:"node"`
	// RTT of that pod to the database (e.g. "40ms").
	RTT string `json:"rtt"`
	// MeasuredAt is the newest sample behind the figure.
	// +optional
	MeasuredAt *metav1.Time `json:"measuredAt,omitempty"`
}

// PendingMove is a lower-RTT move that has not happened yet.
type PendingMove struct {
	// To is the candidate pod.
	To string `json:"to"`
	// Since is when the gain was first seen; the move happens once it held for the hold.
	Since metav1.Time `json:"since"`
}

// MoveRecord is one change of owner.
type MoveRecord struct {
	// From is the previous owner pod ("" for the first assignment).
	// +optional
	From string `json:"from,omitempty"`
	// To is the new owner pod.
	To string `json:"to"`
	// Reason of the move (OwnerDeleted, OwnerNotReady, OwnerDraining, NodeUnschedulable,
	// LeaseExpired, HomeRegionAvailable, OwnerGone, LowerRTT).
	Reason string `json:"reason"`
	// Message explains the move for humans (e.g. "LowerRTT from 120 ms to 0.4 ms").
	// +optional
	Message string `json:"message,omitempty"`
	// At is when the move was written.
	At metav1.Time `json:"at"`
	// Duration from when the old owner was seen failing (deletion, readiness flip, lease
	// expiry) to the move; empty when unknown.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// Tenant is one project served by a RealtimeCluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rtt;rttenant,categories=realtime
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`
// +kubebuilder:printcolumn:name="DB Region",type=string,JSONPath=`.spec.database.region`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.status.replication.node`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="RTT",type=string,JSONPath=`.status.replication.rtt`,description="owner pod's measured round-trip time to the database"
// +kubebuilder:printcolumn:name="Lag",type=string,JSONPath=`.status.replication.lag`,description="WAL retained by the replication slot"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Placement",type=string,JSONPath=`.status.replication.reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="has(self.spec.externalId) || (size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))",message="metadata.name is not a DNS label, so it cannot serve as externalId: set spec.externalId"
type Tenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TenantSpec   `json:"spec"`
	Status TenantStatus `json:"status,omitempty"`
}

// TenantList is a list of Tenant.
//
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tenant `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Tenant{}, &TenantList{})
}
