package kube

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/realtimeops/realtime/internal/tenantlease"
)

// Pure Lease transitions, kept apart from the API calls so they are table-tested. The reading
// of a Lease (holder, expiry) is internal/tenantlease's, shared with the operator.

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

// holderOf returns spec.holderIdentity, "" when unset.
func holderOf(l *coordinationv1.Lease) string { return tenantlease.Holder(l) }

// newLease is a tenant Lease acquired by holder at now, in the holder's node-Lease epoch.
func newLease(namespace, tenantName, holder string, labels map[string]string, now time.Time, d time.Duration, epoch int32) *coordinationv1.Lease {
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(tenantName), Namespace: namespace, Labels: labels},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       &holder,
			LeaseDurationSeconds: durationSeconds(d),
			AcquireTime:          microTime(now),
			RenewTime:            microTime(now),
		},
	}
	return withEpoch(l, epoch)
}

// newNodeLease is pod's node Lease, epoch 0.
func newNodeLease(namespace, pod string, labels map[string]string, now time.Time, d time.Duration) *coordinationv1.Lease {
	var zero int32
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: tenantlease.NodeLeaseName(pod), Namespace: namespace, Labels: labels},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       &pod,
			LeaseDurationSeconds: durationSeconds(d),
			AcquireTime:          microTime(now),
			RenewTime:            microTime(now),
			LeaseTransitions:     &zero,
		},
	}
}

func withEpoch(l *coordinationv1.Lease, epoch int32) *coordinationv1.Lease {
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[tenantlease.EpochAnnotation] = tenantlease.FormatEpoch(epoch)
	return l
}

// renewed is l with renewTime now (the holder is unchanged).
func renewed(l *coordinationv1.Lease, now time.Time, d time.Duration) *coordinationv1.Lease {
	l = l.DeepCopy()
	l.Spec.RenewTime = microTime(now)
	l.Spec.LeaseDurationSeconds = durationSeconds(d)
	return l
}

// reaffirmed is a tenant Lease this holder already names, rewritten in epoch (after a restart or
// a lapse): a write, so that it races under resourceVersion with anyone taking it over.
func reaffirmed(l *coordinationv1.Lease, now time.Time, d time.Duration, epoch int32) *coordinationv1.Lease {
	return withEpoch(renewed(l, now, d), epoch)
}

// takenOver is l acquired by holder at now, counting a transition. For a node Lease the count is
// the new epoch; for a tenant Lease epoch is the holder's (ignored when negative).
func takenOver(l *coordinationv1.Lease, holder string, now time.Time, d time.Duration, epoch int32) *coordinationv1.Lease {
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
	if epoch >= 0 {
		l = withEpoch(l, epoch)
	}
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
