package tenantlease

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type leaseOpt func(*coordinationv1.Lease)

func lease(name, holder string, opts ...leaseOpt) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if holder != "-" {
		l.Spec.HolderIdentity = &holder
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

func renewedAt(t time.Time) leaseOpt {
	return func(l *coordinationv1.Lease) { m := metav1.NewMicroTime(t); l.Spec.RenewTime = &m }
}
func acquiredAt(t time.Time) leaseOpt {
	return func(l *coordinationv1.Lease) { m := metav1.NewMicroTime(t); l.Spec.AcquireTime = &m }
}
func seconds(s int32) leaseOpt {
	return func(l *coordinationv1.Lease) { l.Spec.LeaseDurationSeconds = &s }
}
func epoch(e int32) leaseOpt { return func(l *coordinationv1.Lease) { l.Spec.LeaseTransitions = &e } }
func inEpoch(v string) leaseOpt {
	return func(l *coordinationv1.Lease) { l.Annotations = map[string]string{EpochAnnotation: v} }
}

// TestRead is the contract's edge cases, as both the node (takeover) and the operator (fencing,
// OwnerLeaseHeld) read them.
func TestRead(t *testing.T) {
	tl := Name("acme")
	nl := NodeLeaseName("pod-a")
	tests := []struct {
		name    string
		tenant  *coordinationv1.Lease
		node    *coordinationv1.Lease
		holder  string
		expires time.Time
		basis   Basis
		at      time.Time
		expired bool
		free    bool
	}{
		{name: "absent", tenant: nil, at: t0, free: true},
		{name: "no holder field", tenant: lease(tl, "-", renewedAt(t0)), at: t0, free: true},
		{name: "released (empty holder)", tenant: lease(tl, "", renewedAt(t0), seconds(15)), at: t0, free: true},
		{name: "fresh", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15)), holder: "pod-a",
			expires: t0.Add(15 * time.Second), basis: OwnTimes, at: t0.Add(14 * time.Second)},
		{name: "at expiry still held", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15)), holder: "pod-a",
			expires: t0.Add(15 * time.Second), basis: OwnTimes, at: t0.Add(15 * time.Second)},
		{name: "expired", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15)), holder: "pod-a",
			expires: t0.Add(15 * time.Second), basis: OwnTimes, at: t0.Add(15*time.Second + time.Millisecond), expired: true, free: true},
		{name: "renew time missing: acquire time counts", tenant: lease(tl, "pod-a", acquiredAt(t0), seconds(10)), holder: "pod-a",
			expires: t0.Add(10 * time.Second), basis: OwnTimes, at: t0.Add(5 * time.Second)},
		{name: "no time at all proves nothing", tenant: lease(tl, "pod-a", seconds(15)), holder: "pod-a",
			basis: OwnTimes, at: t0, expired: true, free: true},
		{name: "duration missing: default", tenant: lease(tl, "pod-a", renewedAt(t0)), holder: "pod-a",
			expires: t0.Add(DefaultDuration), basis: OwnTimes, at: t0},
		{name: "duration zero: default", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(0)), holder: "pod-a",
			expires: t0.Add(DefaultDuration), basis: OwnTimes, at: t0},
		// Clock skew: the writer's clock 4 s behind the reader's makes renewTime look 4 s older;
		// the holder (own clock) stops 10 s after its renewal, the reader's expiry is 11 s after.
		{name: "writer clock behind within margin", tenant: lease(tl, "pod-a", renewedAt(t0.Add(-4*time.Second)), seconds(15)), holder: "pod-a",
			expires: t0.Add(11 * time.Second), basis: OwnTimes, at: t0.Add(10 * time.Second)},
		// Writer clock ahead: a renewTime in the future holds longer by the skew (no failover
		// before the reader reaches it).
		{name: "writer clock ahead", tenant: lease(tl, "pod-a", renewedAt(t0.Add(30*time.Second)), seconds(15)), holder: "pod-a",
			expires: t0.Add(45 * time.Second), basis: OwnTimes, at: t0.Add(40 * time.Second)},
		// Node Lease contract.
		{name: "node lease same epoch renews every tenant",
			tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("2")),
			node:   lease(nl, "pod-a", renewedAt(t0.Add(time.Hour)), seconds(15), epoch(2)), holder: "pod-a",
			expires: t0.Add(time.Hour + 15*time.Second), basis: NodeLease, at: t0.Add(time.Hour)},
		{name: "node lease expired", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("2")),
			node: lease(nl, "pod-a", renewedAt(t0.Add(time.Minute)), seconds(15), epoch(2)), holder: "pod-a",
			expires: t0.Add(time.Minute + 15*time.Second), basis: NodeLease, at: t0.Add(2 * time.Minute), expired: true, free: true},
		{name: "tenant acquired after the last node renewal keeps its own duration",
			tenant: lease(tl, "pod-a", renewedAt(t0.Add(10*time.Second)), seconds(15), inEpoch("2")),
			node:   lease(nl, "pod-a", renewedAt(t0), seconds(15), epoch(2)), holder: "pod-a",
			expires: t0.Add(25 * time.Second), basis: NodeLease, at: t0.Add(20 * time.Second)},
		{name: "newer epoch ends the old epoch's tenants when it began",
			tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("2")),
			node:   lease(nl, "pod-a", acquiredAt(t0.Add(5*time.Second)), renewedAt(t0.Add(6*time.Second)), seconds(15), epoch(3)), holder: "pod-a",
			expires: t0.Add(5 * time.Second), basis: NewerEpoch, at: t0.Add(6 * time.Second), expired: true, free: true},
		{name: "epoch the reader's node lease does not show yet: own times",
			tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("4")),
			node:   lease(nl, "pod-a", renewedAt(t0.Add(-time.Second)), seconds(15), epoch(3)), holder: "pod-a",
			expires: t0.Add(15 * time.Second), basis: OwnTimes, at: t0.Add(time.Second)},
		{name: "node lease released", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("2")),
			node: lease(nl, "", renewedAt(t0.Add(2*time.Second)), seconds(15), epoch(2)), holder: "pod-a",
			expires: t0.Add(2 * time.Second), basis: NodeReleased, at: t0.Add(3 * time.Second), expired: true, free: true},
		{name: "node lease missing: own times", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("2")), holder: "pod-a",
			expires: t0.Add(15 * time.Second), basis: OwnTimes, at: t0.Add(20 * time.Second), expired: true, free: true},
		{name: "another pod's node lease is ignored", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("2")),
			node: lease(NodeLeaseName("pod-b"), "pod-b", renewedAt(t0.Add(time.Hour)), seconds(15), epoch(2)), holder: "pod-a",
			expires: t0.Add(15 * time.Second), basis: OwnTimes, at: t0.Add(20 * time.Second), expired: true, free: true},
		{name: "malformed epoch matches none", tenant: lease(tl, "pod-a", renewedAt(t0), seconds(15), inEpoch("x")),
			node: lease(nl, "pod-a", renewedAt(t0.Add(time.Hour)), seconds(15), epoch(0)), holder: "pod-a",
			expires: t0.Add(time.Hour), basis: NewerEpoch, at: t0.Add(time.Hour), expired: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Read(tt.tenant, tt.node)
			if v.Holder != tt.holder || !v.Expires.Equal(tt.expires) || v.Basis != tt.basis {
				t.Fatalf("Read = %+v, want holder %q expires %s basis %q", v, tt.holder, tt.expires, tt.basis)
			}
			if got := v.Expired(tt.at); got != tt.expired {
				t.Errorf("Expired(%s) = %v, want %v", tt.at, got, tt.expired)
			}
			if got := v.Free(tt.at); got != tt.free {
				t.Errorf("Free(%s) = %v, want %v", tt.at, got, tt.free)
			}
		})
	}
}

func TestNames(t *testing.T) {
	if Name("acme") != "tenant-acme" || NodeLeaseName("rt-eu-0") != "realtime-node-rt-eu-0" {
		t.Fatal("names changed: the operator and older nodes read them")
	}
	if n, ok := TenantOf("tenant-acme"); !ok || n != "acme" {
		t.Fatal("TenantOf")
	}
	for _, bad := range []string{"tenant-", "realtime-node-rt-eu-0", "kube-node-x"} {
		if _, ok := TenantOf(bad); ok {
			t.Errorf("TenantOf(%q) accepted", bad)
		}
	}
	if p, ok := PodOf("realtime-node-rt-eu-0"); !ok || p != "rt-eu-0" {
		t.Fatal("PodOf")
	}
	if _, ok := PodOf("tenant-acme"); ok {
		t.Fatal("PodOf accepted a tenant Lease")
	}
}
