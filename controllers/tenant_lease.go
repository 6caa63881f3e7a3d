package controllers

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
)

// defaultLeaseDuration applies when a Lease has no leaseDurationSeconds (nodes set 15 s).
const defaultLeaseDuration = 15 * time.Second

// leaseView is what placement needs to know about a tenant's fencing Lease.
type leaseView struct {
	Holder string
	// Expired is renewTime + leaseDurationSeconds; the controller acts FailoverDelay later.
	Expired time.Time
	// ActAt is Expired + the tenant's failoverDelay.
	ActAt time.Time
}

// viewLease reads a Lease (nil when absent) with the tenant's failover delay. A Lease without
// holder, or never renewed nor acquired, fences nobody.
func viewLease(l *coordinationv1.Lease, failoverDelay time.Duration) (leaseView, bool) {
	if l == nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return leaseView{}, false
	}
	var last time.Time
	switch {
	case l.Spec.RenewTime != nil:
		last = l.Spec.RenewTime.Time
	case l.Spec.AcquireTime != nil:
		last = l.Spec.AcquireTime.Time
	default:
		return leaseView{}, false
	}
	d := defaultLeaseDuration
	if l.Spec.LeaseDurationSeconds != nil && *l.Spec.LeaseDurationSeconds > 0 {
		d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	exp := last.Add(d)
	return leaseView{Holder: *l.Spec.HolderIdentity, Expired: exp, ActAt: exp.Add(failoverDelay)}, true
}

// fences reports whether the Lease, at now, disqualifies its holder: it expired more than the
// failover delay ago.
func (v leaseView) fences(now time.Time) bool { return v.Holder != "" && !now.Before(v.ActAt) }

// leaseChanged is the watch predicate: holder changes, creation and deletion matter; renewals
// (renewTime only) do not, so thousands of Leases renewing every few seconds cost nothing.
func leaseChanged(oldL, newL *coordinationv1.Lease) bool {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	i32 := func(p *int32) int32 {
		if p == nil {
			return 0
		}
		return *p
	}
	return str(oldL.Spec.HolderIdentity) != str(newL.Spec.HolderIdentity) ||
		i32(oldL.Spec.LeaseDurationSeconds) != i32(newL.Spec.LeaseDurationSeconds)
}
