package controllers

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"

	"github.com/realtimeops/realtime/internal/tenantlease"
)

// leaseView is what placement needs to know about a tenant's fencing Lease, read by the
// contract both sides share (internal/tenantlease).
type leaseView struct {
	Holder string
	// Expired is when the holder's right ended (its node Lease's renewal + duration for Leases
	// of the node-Lease contract); the controller acts FailoverDelay later.
	Expired time.Time
	// ActAt is Expired + the tenant's failoverDelay.
	ActAt time.Time
}

// viewLease reads a tenant Lease (nil when absent) with its holder's node Lease (nil when
// absent) and the tenant's failover delay. A Lease without holder fences nobody.
func viewLease(l, node *coordinationv1.Lease, failoverDelay time.Duration) (leaseView, bool) {
	v := tenantlease.Read(l, node)
	if !v.Held() {
		return leaseView{}, false
	}
	return leaseView{Holder: v.Holder, Expired: v.Expires, ActAt: v.Expires.Add(failoverDelay)}, true
}

// fences reports whether the Lease, at now, disqualifies its holder: it expired more than the
// failover delay ago (strictly after, as nodes take a Lease over strictly after its expiry).
func (v leaseView) fences(now time.Time) bool { return v.Holder != "" && now.After(v.ActAt) }

// leaseChanged is the watch predicate for tenant and node Leases: holder changes, epoch
// changes, creation and deletion matter; routine renewals (renewTime only) do not, so node
// Leases renewing every few seconds cost nothing. A renewal of a Lease that had already expired
// does matter: its holder may have been fenced into "no ready node" (it was the only
// candidate), and only this event says it is back.
func leaseChanged(oldL, newL *coordinationv1.Lease) bool {
	if tenantlease.Holder(oldL) != tenantlease.Holder(newL) || tenantlease.Duration(oldL) != tenantlease.Duration(newL) ||
		tenantlease.Epoch(oldL) != tenantlease.Epoch(newL) ||
		oldL.Annotations[tenantlease.EpochAnnotation] != newL.Annotations[tenantlease.EpochAnnotation] {
		return true
	}
	oldView := tenantlease.Read(oldL, nil)
	renewed, ok := tenantlease.LastRenewal(newL)
	return oldView.Held() && ok && renewed.After(oldView.Expires)
}
