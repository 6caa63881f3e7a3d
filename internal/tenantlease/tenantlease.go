// Package tenantlease is the fencing contract between the node pods and the operator, read the
// same way by both sides (node/tenant/kube writes and takes over Leases, controllers fence and
// report on them). It is pure: no API calls, only names and the reading of Lease objects.
//
// The contract (coordination.k8s.io/v1 Leases in the tenant's namespace):
//
//   - The owner of a tenant's WAL work holds the tenant Lease Name(tenant) with
//     holderIdentity = its pod name. It releases it by setting holderIdentity to "".
//   - Each node pod renews one node Lease, NodeLeaseName(pod), every Duration/3; its
//     spec.leaseTransitions is the pod's epoch, increased on every start and after every lapse
//     of its renewals. A tenant Lease written by such a pod carries the epoch it was acquired in
//     (EpochAnnotation) and is not renewed itself: it is valid while the holder's node Lease is,
//     in that same epoch. So one write per pod per interval keeps all its tenants, instead of
//     one write per tenant (issue 13: 1,000 tenants cost 200 writes/s before).
//   - A tenant Lease without EpochAnnotation (older nodes, hand-written Leases) is valid on its
//     own: renewTime (else acquireTime) + leaseDurationSeconds.
//   - The operator reassigns a tenant once its Lease has been expired for the tenant's
//     failoverDelay; a node takes a Lease over only when it is free or expired.
//
// Fencing by epoch: a holder that lost its node Lease (a lapse: its renewals stopped for longer
// than its own margin) starts a new epoch before it renews again, which invalidates, at once and
// for every reader, each tenant Lease of the old epoch; it must rewrite a tenant Lease (an update
// guarded by resourceVersion, so it races fairly with a taker) before it streams that tenant
// again. A taker that wrote first wins; the lapsed holder then sees the new holder and stays off.
//
// Clocks: the holder decides on its own monotonic clock (it stops streaming Duration-Duration/3
// after the last renewal it sent, see node/tenant/kube.LeaseHolder.Holds); readers compare the
// written renewTime with their wall clock. A writer clock behind the reader's by up to
// Duration/3 is safe (the reader's expiry still comes after the holder stopped); a writer clock
// ahead only postpones failover by the skew. Clocks are assumed NTP-synchronised well within
// that margin (5 s at the default 15 s).
package tenantlease

import (
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
)

const (
	// Prefix + Tenant metadata.name is the tenant Lease's name.
	Prefix = "tenant-"
	// NodePrefix + pod name is a node pod's Lease (no Tenant Lease can start with it: those
	// start with Prefix).
	NodePrefix = "realtime-node-"
	// DefaultDuration is the leaseDurationSeconds nodes write, and the one assumed when a Lease
	// has none (or a non-positive one).
	DefaultDuration = 15 * time.Second
	// EpochAnnotation on a tenant Lease is the holder's node-Lease epoch it was acquired in.
	EpochAnnotation = "realtime.realtimeops.io/holder-epoch"
)

// Name is the Lease name of the Tenant resource named tenant.
func Name(tenant string) string { return Prefix + tenant }

// TenantOf is the Tenant name of a tenant Lease name; false for any other Lease.
func TenantOf(leaseName string) (string, bool) {
	t, ok := strings.CutPrefix(leaseName, Prefix)
	return t, ok && t != ""
}

// NodeLeaseName is the Lease name of the node pod named pod.
func NodeLeaseName(pod string) string { return NodePrefix + pod }

// PodOf is the pod name of a node Lease name; false for any other Lease.
func PodOf(leaseName string) (string, bool) {
	p, ok := strings.CutPrefix(leaseName, NodePrefix)
	return p, ok && p != ""
}

// Holder is spec.holderIdentity, "" when unset.
func Holder(l *coordinationv1.Lease) string {
	if l == nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// LastRenewal is renewTime, else acquireTime; false when the Lease has neither.
func LastRenewal(l *coordinationv1.Lease) (time.Time, bool) {
	switch {
	case l.Spec.RenewTime != nil:
		return l.Spec.RenewTime.Time, true
	case l.Spec.AcquireTime != nil:
		return l.Spec.AcquireTime.Time, true
	}
	return time.Time{}, false
}

// Duration is leaseDurationSeconds, DefaultDuration when unset or not positive.
func Duration(l *coordinationv1.Lease) time.Duration {
	if l.Spec.LeaseDurationSeconds != nil && *l.Spec.LeaseDurationSeconds > 0 {
		return time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return DefaultDuration
}

// Epoch is a node Lease's epoch (spec.leaseTransitions, 0 when unset).
func Epoch(node *coordinationv1.Lease) int32 {
	if node == nil || node.Spec.LeaseTransitions == nil {
		return 0
	}
	return *node.Spec.LeaseTransitions
}

// TenantEpoch is the epoch a tenant Lease was acquired in; false when it has none (a
// self-contained Lease).
func TenantEpoch(l *coordinationv1.Lease) (int32, bool) {
	v, ok := l.Annotations[EpochAnnotation]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return -1, true // malformed: matches no epoch, so the Lease is only as good as its own times
	}
	return int32(n), true
}

// FormatEpoch is the EpochAnnotation value of an epoch.
func FormatEpoch(e int32) string { return strconv.FormatInt(int64(e), 10) }

// Basis says what a View's expiry was computed from.
type Basis string

const (
	// OwnTimes means the tenant Lease's own renewTime/acquireTime + duration.
	OwnTimes Basis = "OwnTimes"
	// NodeLease means the holder's node Lease, same epoch.
	NodeLease Basis = "NodeLease"
	// NewerEpoch means the holder's node Lease moved to a newer epoch (it restarted or lapsed),
	// so the tenant Lease expired when that epoch began.
	NewerEpoch Basis = "NewerEpoch"
	// NodeReleased means the holder released its node Lease (stopped).
	NodeReleased Basis = "NodeReleased"
)

// View is a tenant Lease as read at some instant.
type View struct {
	// Holder is the pod named by the tenant Lease, "" for a free Lease.
	Holder string
	// Expires is when the holder's right ends. Zero when the Lease states no time at all (such
	// a Lease proves nothing: it counts as expired since ever).
	Expires time.Time
	Basis   Basis
}

// Held reports whether the Lease names a holder.
func (v View) Held() bool { return v.Holder != "" }

// Expired reports whether a held Lease's right ended before now (at Expires it still holds).
// A free Lease is not "expired": it has nobody to fence.
func (v View) Expired(now time.Time) bool { return v.Held() && now.After(v.Expires) }

// Free reports whether anyone may take the Lease at now: nobody holds it, or its holder's
// right ended.
func (v View) Free(now time.Time) bool { return !v.Held() || v.Expired(now) }

// Read reads a tenant Lease with its holder's node Lease (nil when absent or not looked up).
// The node Lease is only used when the tenant Lease carries an epoch and the node Lease is the
// holder's.
func Read(tenant, node *coordinationv1.Lease) View {
	holder := Holder(tenant)
	if tenant == nil || holder == "" {
		return View{}
	}
	own := View{Holder: holder, Basis: OwnTimes}
	if last, ok := LastRenewal(tenant); ok {
		own.Expires = last.Add(Duration(tenant))
	}
	epoch, ok := TenantEpoch(tenant)
	if !ok || node == nil || node.Name != NodeLeaseName(holder) {
		return own
	}
	nodeLast, ok := LastRenewal(node)
	switch nodeHolder := Holder(node); {
	case !ok:
		return own
	case nodeHolder == "":
		return View{Holder: holder, Expires: nodeLast, Basis: NodeReleased}
	case nodeHolder != holder:
		return own // not the contract's node Lease: trust only the tenant Lease's own times
	case Epoch(node) == epoch:
		exp := nodeLast.Add(Duration(node))
		if own.Expires.After(exp) {
			exp = own.Expires // acquired after the last node renewal: good for its own duration
		}
		return View{Holder: holder, Expires: exp, Basis: NodeLease}
	case Epoch(node) > epoch:
		at := nodeLast
		if node.Spec.AcquireTime != nil {
			at = node.Spec.AcquireTime.Time
		}
		return View{Holder: holder, Expires: at, Basis: NewerEpoch}
	default:
		// A tenant Lease of an epoch the reader does not see yet (its copy of the node Lease
		// is older): as good as its own times.
		return own
	}
}
