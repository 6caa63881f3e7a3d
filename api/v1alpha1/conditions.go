package v1alpha1

import "github.com/realtimeops/realtime/internal/tenantlease"

// ConditionType is the type of a condition of a RealtimeCluster or Tenant.
type ConditionType string

// ConditionReason is the machine-readable reason of a condition (UpperCamelCase).
type ConditionReason string

// Condition types of RealtimeCluster.
const (
	// ClusterReady is True when every region has all its desired node pods ready.
	ClusterReady ConditionType = "Ready"
	// ClusterProgressing is True while a region's StatefulSet is rolling out or scaling.
	ClusterProgressing ConditionType = "Progressing"
	// ClusterDegraded is True when a settled region has fewer ready pods than desired.
	ClusterDegraded ConditionType = "Degraded"
)

// Reasons of RealtimeCluster conditions.
const (
	ReasonAllNodesReady      ConditionReason = "AllNodesReady"
	ReasonNodesNotReady      ConditionReason = "NodesNotReady"
	ReasonRollingOut         ConditionReason = "RollingOut"
	ReasonRolledOut          ConditionReason = "RolledOut"
	ReasonRegionUnavailable  ConditionReason = "RegionUnavailable"
	ReasonNodesUnavailable   ConditionReason = "NodesUnavailable"
	ReasonAsExpected         ConditionReason = "AsExpected"
	ReasonReconcileFailed    ConditionReason = "ReconcileFailed"
	ReasonClusterSecretError ConditionReason = "ClusterSecretMissing"
	ReasonNameConflict       ConditionReason = "NameConflict"
)

// Condition types of Tenant.
const (
	// TenantReady is True when the tenant's Secrets resolve, it is not suspended and, when it
	// has a database, its WAL work is assigned.
	TenantReady ConditionType = "Ready"
	// TenantAssigned is True when a ready node owns the tenant's WAL work; its reason says
	// how the node was chosen (a fallback reason means not in the database's region).
	TenantAssigned ConditionType = "Assigned"
	// TenantSecretsResolved is True when every referenced Secret and key exists.
	TenantSecretsResolved ConditionType = "SecretsResolved"
	// TenantClusterFound is True when spec.clusterRef names an existing RealtimeCluster.
	TenantClusterFound ConditionType = "ClusterFound"
	// TenantOwnerLeaseHeld is True when the assigned owner holds the tenant's fencing Lease and
	// renews it in time. Only tenants with WAL work (a database, not suspended) have it.
	TenantOwnerLeaseHeld ConditionType = "OwnerLeaseHeld"
	// TenantDatabaseReachable is True when the operator could connect to the tenant's database
	// at its last check (every 15 s).
	TenantDatabaseReachable ConditionType = "DatabaseReachable"
	// TenantReplicationStreaming is True when the slot exists and is active while the owner
	// holds the Lease: the owner streams from the slot.
	TenantReplicationStreaming ConditionType = "ReplicationStreaming"
	// TenantSlotLagWithinLimit is False when the slot retains more WAL than
	// spec.database.maxSlotLag, or Postgres reports its WAL as unreserved or lost.
	TenantSlotLagWithinLimit ConditionType = "SlotLagWithinLimit"
)

// Reasons of Tenant conditions. The Assigned reasons mirror placement.Reason.
const (
	ReasonSameRegion        ConditionReason = "SameRegion"
	ReasonMappedRegion      ConditionReason = "MappedRegion"
	ReasonLowestRTT         ConditionReason = "LowestRTT"
	ReasonAnyRegion         ConditionReason = "FallbackAnyRegion"
	ReasonNoReadyNode       ConditionReason = "NoReadyNode"
	ReasonClusterNotFound   ConditionReason = "ClusterNotFound"
	ReasonNoDatabase        ConditionReason = "NoDatabase"
	ReasonSuspended         ConditionReason = "Suspended"
	ReasonResolved          ConditionReason = "Resolved"
	ReasonSecretMissing     ConditionReason = "SecretMissing"
	ReasonSecretKeyMissing  ConditionReason = "SecretKeyMissing"
	ReasonTenantReady       ConditionReason = "TenantReady"
	ReasonNotAssigned       ConditionReason = "NotAssigned"
	ReasonSecretsUnresolved ConditionReason = "SecretsUnresolved"
	ReasonClusterFound      ConditionReason = "ClusterFound"
	ReasonLeaseHeld         ConditionReason = "LeaseHeld"
	ReasonLeaseMissing      ConditionReason = "LeaseMissing"
	ReasonLeaseExpired      ConditionReason = "LeaseExpired"
	ReasonLeaseHeldByOther  ConditionReason = "LeaseHeldByOther"
	ReasonConnected         ConditionReason = "Connected"
	ReasonConnectFailed     ConditionReason = "ConnectFailed"
	ReasonQueryFailed       ConditionReason = "QueryFailed"
	ReasonStreaming         ConditionReason = "Streaming"
	ReasonSlotMissing       ConditionReason = "SlotMissing"
	ReasonSlotInactive      ConditionReason = "SlotInactive"
	ReasonLagWithinLimit    ConditionReason = "LagWithinLimit"
	ReasonLagExceeded       ConditionReason = "LagExceeded"
	ReasonWALUnreserved     ConditionReason = "WALUnreserved"
	ReasonWALLost           ConditionReason = "WALLost"
	ReasonNotReachable      ConditionReason = "DatabaseNotReachable"
	ReasonNotStreaming      ConditionReason = "NotStreaming"
	ReasonLeaseNotHeld      ConditionReason = "OwnerLeaseNotHeld"
	// ReasonMoveRequested: Assigned, to the pod MoveToAnnotation names.
	ReasonMoveRequested ConditionReason = "MoveRequested"
	// ReasonMoveTargetUnavailable: Assigned by the usual rules, because the pod
	// MoveToAnnotation names cannot own the tenant now (not ready, draining, not in the cluster).
	ReasonMoveTargetUnavailable ConditionReason = "MoveTargetUnavailable"
)

// Reasons of a move of a tenant's WAL work (MoveRecord.Reason).
const (
	MoveInitial             = "Initial"
	MoveOwnerDeleted        = "OwnerDeleted"
	MoveOwnerNotReady       = "OwnerNotReady"
	MoveOwnerDraining       = "OwnerDraining"
	MoveNodeUnschedulable   = "NodeUnschedulable"
	MoveLeaseExpired        = "LeaseExpired"
	MoveHomeRegionAvailable = "HomeRegionAvailable"
	MoveOwnerGone           = "OwnerGone"
	// MoveRequested: a planned handoff to the pod named by MoveToAnnotation.
	MoveRequested = "Requested"
	// MoveLowerRTT: the owner was healthy, but another pod's measured RTT to the database was
	// significantly lower (placement.Hysteresis), by figures that held for the nodes' RTT hold.
	MoveLowerRTT = "LowerRTT"
)

// Annotations and labels shared by the operator and the nodes.
const (
	// DrainingAnnotation on a node pod ("true") makes placement treat the pod as not ready, so
	// its tenants move before the pod stops: the hook for planned moves (rollouts, drains).
	DrainingAnnotation = "realtime.realtimeops.io/draining"
	// MoveToAnnotation on a Tenant names the node pod that should own its WAL work (`kubectl
	// realtime move`): the operator assigns it there while that pod can own it, a planned
	// handoff through the Lease like any move; removing the annotation returns the tenant to
	// the usual placement.
	MoveToAnnotation = "realtime.realtimeops.io/move-to"
	// ClusterLabel on node pods names their RealtimeCluster.
	ClusterLabel = "realtime.realtimeops.io/cluster"
	// RegionLabel on node pods names their region.
	RegionLabel = "realtime.realtimeops.io/region"
	// TenantFinalizer drops the tenant's replication slot before the Tenant goes away.
	TenantFinalizer = "realtime.realtimeops.io/replication-slot"
	// LeasePrefix + Tenant name is the name of the tenant's fencing Lease (the contract is
	// internal/tenantlease's, shared with the nodes).
	LeasePrefix = tenantlease.Prefix
	// RTTLeasePrefix + pod name is the Lease in which a node pod publishes its measured round-trip
	// times to tenant databases (RTTAnnotation). A Lease because node pods may already write
	// Leases and nothing else; one per pod, written at most once per RTT probe round and only
	// when a settled figure changed.
	RTTLeasePrefix = "rtt-"
	// RTTAnnotation on an RTT Lease holds JSON {"host:port": {"ms": 0.4, "at": "RFC 3339"}}.
	RTTAnnotation = "realtime.realtimeops.io/rtt"
)
