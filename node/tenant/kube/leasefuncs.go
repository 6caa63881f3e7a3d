package kube

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Pure Lease transitions, kept apart from the API calls so they are table-tested.

func durationSeconds(d time.Duration) *int32 {
	s := int32(d / time.Second)
	if s < 1 {
		s = 1
	}
	return &s
}

func microTime(t time.Time) *metav1.MicroTime {
	m := metav1.NewMicroTime(t)
	return &m
}

// newLease is a Lease acquired by holder at now.
func newLease(namespace, tenantName, holder string, labels map[string]string, now time.Time, d time.Duration) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(tenantName), Namespace: namespace, Labels: labels},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       &holder,
			LeaseDurationSeconds: durationSeconds(d),
			AcquireTime:          microTime(now),
			RenewTime:            microTime(now),
		},
	}
}

// holderOf returns spec.holderIdentity, "" when unset.
func holderOf(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// expired reports whether renewTime (else acquireTime) + leaseDurationSeconds is before now,
// the operator's reading of a Lease. A Lease with no time or duration counts as expired.
func expired(l *coordinationv1.Lease, now time.Time) bool {
	last := l.Spec.RenewTime
	if last == nil {
		last = l.Spec.AcquireTime
	}
	if last == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return last.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second).Before(now)
}

// renewed is l with renewTime now (the holder is unchanged).
func renewed(l *coordinationv1.Lease, now time.Time, d time.Duration) *coordinationv1.Lease {
	l = l.DeepCopy()
	l.Spec.RenewTime = microTime(now)
	l.Spec.LeaseDurationSeconds = durationSeconds(d)
	return l
}

// takenOver is l acquired by holder at now, counting a transition.
func takenOver(l *coordinationv1.Lease, holder string, now time.Time, d time.Duration) *coordinationv1.Lease {
	l = l.DeepCopy()
	var transitions int32
	if l.Spec.LeaseTransitions != nil {
		transitions = *l.Spec.LeaseTransitions
	}
	transitions++
	l.Spec.HolderIdentity = &holder
	l.Spec.AcquireTime = microTime(now)
	l.Spec.RenewTime = microTime(now)
	l.Spec.LeaseDurationSeconds = durationSeconds(d)
	l.Spec.LeaseTransitions = &transitions
	return l
}

// released is l with no holder: the next owner may take it at once.
func released(l *coordinationv1.Lease, now time.Time) *coordinationv1.Lease {
	l = l.DeepCopy()
	empty := ""
	l.Spec.HolderIdentity = &empty
	l.Spec.RenewTime = microTime(now)
	return l
}
