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
	last, ok := lastRenewal(l)
	if !ok {
		return leaseView{}, false
	}
	exp := last.Add(leaseDuration(l))
	return leaseView{Holder: *l.Spec.HolderIdentity, Expired: exp, ActAt: exp.Add(failoverDelay)}, true
}

// lastRenewal is renewTime, else acquireTime; false when the Lease has neither.
func lastRenewal(l *coordinationv1.Lease) (time.Time, bool) {
	switch {
	case l.Spec.RenewTime != nil:
		return l.Spec.RenewTime.Time, true
	case l.Spec.AcquireTime != nil:
		return l.Spec.AcquireTime.Time, true
	}
	return time.Time{}, false
}

func leaseDuration(l *coordinationv1.Lease) time.Duration {
	if l.Spec.LeaseDurationSeconds != nil && *l.Spec.LeaseDurationSeconds > 0 {
		return time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return defaultLeaseDuration
}

// fences reports whether the Lease, at now, disqualifies its holder: it expired more than the
// failover delay ago.
func (v leaseView) fences(now time.Time) bool { return v.Holder != "" && !now.Before(v.ActAt) }

// leaseChanged is the watch predicate: holder changes, creation and deletion matter; routine
// renewals (renewTime only) do not, so thousands of Leases renewing every few seconds cost
// nothing. A renewal of a Lease that had already expired does matter: its holder may have been
// fenced into "no ready node" (it was the only candidate), and only this event says it is back.
func leaseChanged(oldL, newL *coordinationv1.Lease) bool {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if str(oldL.Spec.HolderIdentity) != str(newL.Spec.HolderIdentity) || leaseDuration(oldL) != leaseDuration(newL) {
		return true
	}
	oldView, held := viewLease(oldL, 0)
	renewed, ok := lastRenewal(newL)
	return held && ok && renewed.After(oldView.Expired)
}
