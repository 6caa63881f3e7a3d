// Package controllers holds the RealtimeCluster and Tenant reconcilers of the realtime operator.
//
// # RealtimeCluster
//
// One StatefulSet and one PodDisruptionBudget per region, a headless Service for node discovery,
// a client Service, and the ServiceAccount/Role/RoleBinding of the node pods, all owned by the
// RealtimeCluster and applied with server-side apply. Status counts ready pods per region from
// the pods themselves.
//
// # Tenant placement and fencing (the contract with the nodes)
//
// The Tenant controller writes status.replication.node: the pod that owns the tenant's WAL work.
// The owner proves it is alive with coordination.k8s.io/v1 Leases in the tenant's namespace, by
// the contract in internal/tenantlease (read there; the nodes import the same package):
//
//   - per tenant: "tenant-" + Tenant metadata.name, spec.holderIdentity = the owner's pod name,
//     annotation realtime.realtimeops.io/holder-epoch = the epoch it was acquired in; written
//     only when acquired, taken over, re-affirmed or released (holderIdentity "")
//   - per node pod: "realtime-node-" + pod name, renewed every leaseDurationSeconds/3 (5 s by
//     default); spec.leaseTransitions is the pod's epoch. A tenant Lease is valid while its
//     holder's node Lease is, in the same epoch: one write per pod per interval instead of one
//     per tenant (test/e2e BenchmarkLeaseWrites1000Tenants: 200 -> ~1.2 writes/s at 1,000
//     tenants on six pods)
//   - a tenant Lease without the epoch annotation is valid on its own renewTime +
//     leaseDurationSeconds (older nodes)
//
// A node acquires a tenant Lease only while status.replication.node names it, and only when the
// Lease is free (no holder), already its own, or expired (by the contract's reading). It starts
// streaming the slot after acquiring it and stops streaming before releasing it, and stops when
// its node Lease cannot be renewed before expiry; after such a lapse it starts a new epoch and
// must rewrite each tenant Lease before streaming it again (fencing by epoch).
//
// The controller moves the WAL work (status.replication.node changes, lastMove is recorded, an
// event is emitted) when the owner pod is deleted or terminating, not Ready, annotated
// realtime.realtimeops.io/draining=true, its Kubernetes node is cordoned (spec.unschedulable), or
// its Lease expired more than spec.failoverDelay ago. Pod, Node, Lease, Secret and RealtimeCluster
// changes are watched and mapped to Tenants; the only timed requeue is at the Lease's expiry
// (+failoverDelay), because nothing else announces an expiry. Routine Lease renewals are filtered
// out of the watch, so renewals cost nothing; a renewal of an already expired Lease passes, since
// its holder may be the only candidate left and is eligible again.
//
// # Planned moves
//
// A node about to stop (SIGTERM in a rollout or a drain) first flips its readiness (or is
// annotated realtime.realtimeops.io/draining=true), releases its Leases and drains its sockets over
// the grace period. A pod that is terminating or draining is not a placement candidate, so its
// tenants move to the next pod of the region before it exits; the new owner acquires the free
// Lease at once instead of waiting for an expiry. StatefulSet rolling updates replace one pod at a
// time and wait for readiness, and the PDB allows one unavailable pod per region, so a region never
// runs out of candidates during a planned move.
package controllers
