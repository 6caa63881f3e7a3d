package kube

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// The node and the operator must agree on the Lease name (the node does not import the API).
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
	l := newLease("ns", "acme", "pod-a", map[string]string{"x": "y"}, t0, 15*time.Second)
	if l.Name != "tenant-acme" || holderOf(l) != "pod-a" || *l.Spec.LeaseDurationSeconds != 15 || l.Labels["x"] != "y" {
		t.Fatalf("new lease = %+v", l)
	}
	tests := []struct {
		name string
		l    *coordinationv1.Lease
		at   time.Time
		want bool
	}{
		{"fresh", l, t0.Add(14 * time.Second), false},
		{"at expiry", l, t0.Add(15 * time.Second), false},
		{"past expiry", l, t0.Add(15*time.Second + time.Millisecond), true},
		{"renewed later", renewed(l, t0.Add(10*time.Second), 15*time.Second), t0.Add(20 * time.Second), false},
		{"no times", &coordinationv1.Lease{}, t0, true},
	}
	for _, tc := range tests {
		if got := expired(tc.l, tc.at); got != tc.want {
			t.Errorf("%s: expired = %v, want %v", tc.name, got, tc.want)
		}
	}

	taken := takenOver(l, "pod-b", t0.Add(time.Minute), 9*time.Second)
	if holderOf(taken) != "pod-b" || *taken.Spec.LeaseTransitions != 1 || *taken.Spec.LeaseDurationSeconds != 9 ||
		!taken.Spec.AcquireTime.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("taken over = %+v", taken.Spec)
	}
	if taken2 := takenOver(taken, "pod-a", t0, time.Second); *taken2.Spec.LeaseTransitions != 2 {
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
}
