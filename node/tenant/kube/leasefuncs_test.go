package kube

import (
	"testing"
	"time"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/tenantlease"
)

// The node and the operator must agree on the Lease name.
func TestLeaseNameMatchesOperator(t *testing.T) {
	if LeasePrefix != realtimev1.LeasePrefix {
		t.Fatalf("LeasePrefix %q, operator uses %q", LeasePrefix, realtimev1.LeasePrefix)
	}
	tn := &realtimev1.Tenant{}
	tn.Name = "acme"
	if LeaseName("acme") != tn.LeaseName() {
		t.Fatalf("LeaseName = %q, operator %q", LeaseName("acme"), tn.LeaseName())
	}
}

func TestLeaseTransitions(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newLease("ns", "acme", "pod-a", map[string]string{"x": "y"}, t0, 15*time.Second, 3)
	if l.Name != "tenant-acme" || holderOf(l) != "pod-a" || *l.Spec.LeaseDurationSeconds != 15 || l.Labels["x"] != "y" {
		t.Fatalf("new lease = %+v", l)
	}
	if e, ok := tenantlease.TenantEpoch(l); !ok || e != 3 {
		t.Fatalf("epoch = %d %v, want 3", e, ok)
	}
	if r := reaffirmed(l, t0.Add(time.Second), 15*time.Second, 4); r.Annotations[tenantlease.EpochAnnotation] != "4" ||
		l.Annotations[tenantlease.EpochAnnotation] != "3" || !r.Spec.RenewTime.Time.Equal(t0.Add(time.Second)) {
		t.Fatalf("reaffirmed = %+v (input %+v)", r, l)
	}

	taken := takenOver(l, "pod-b", t0.Add(time.Minute), 9*time.Second, 7)
	if holderOf(taken) != "pod-b" || *taken.Spec.LeaseTransitions != 1 || *taken.Spec.LeaseDurationSeconds != 9 ||
		!taken.Spec.AcquireTime.Time.Equal(t0.Add(time.Minute)) || taken.Annotations[tenantlease.EpochAnnotation] != "7" {
		t.Fatalf("taken over = %+v", taken)
	}
	if taken2 := takenOver(taken, "pod-a", t0, time.Second, 1); *taken2.Spec.LeaseTransitions != 2 {
		t.Fatal("transitions not counted")
	}
	if holderOf(l) != "pod-a" {
		t.Fatal("takenOver modified its input")
	}
	if rel := released(taken, t0); holderOf(rel) != "" || rel.Spec.HolderIdentity == nil {
		t.Fatalf("released holder = %v", rel.Spec.HolderIdentity)
	}
	if d := durationSeconds(100 * time.Millisecond); *d != 1 {
		t.Fatalf("sub-second duration = %d", *d)
	}

	// A node Lease starts at epoch 0; taking it over (a new epoch) counts one, without annotation.
	n := newNodeLease("ns", "pod-a", nil, t0, 15*time.Second)
	if n.Name != tenantlease.NodeLeaseName("pod-a") || tenantlease.Epoch(n) != 0 || holderOf(n) != "pod-a" {
		t.Fatalf("node lease = %+v", n)
	}
	if n2 := takenOver(n, "pod-a", t0, 15*time.Second, -1); tenantlease.Epoch(n2) != 1 || n2.Annotations != nil {
		t.Fatalf("node lease after a new epoch = %+v", n2)
	}
}
