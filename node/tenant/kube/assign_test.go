package kube

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestAssignmentDrivesLeases: the operator writing status.replication.node is all it takes for
// the named pod to acquire the tenant's Lease, and moving the assignment releases it (the
// streaming list holds it until the test says the stream stopped).
func TestAssignmentDrivesLeases(t *testing.T) {
	ns := newNamespace(t)
	putSecret(t, ns, "alpha-jwt", map[string]string{"secret": "jwt"})
	putSecret(t, ns, "alpha-db", map[string]string{"password": "pw"})
	createTenant(t, tenantObj(ns, "alpha", cluster, alphaSpec()))
	src, _ := startSource(t, ns, cluster)

	streaming := &tenantList{}
	h := src.LeaseHolder(kubeCS, "rt-eu-0", streaming.get)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	assign := func(pod string) {
		updateTenant(t, ns, "alpha", true, func(u *unstructured.Unstructured) {
			set(t, u, pod, "status", "replication", "node")
		})
	}
	assign("rt-eu-0")
	checkFor(t, "lease acquired on assignment", func() bool { return h.Holds("alpha") })
	l := getLease(t, ns, "alpha")
	if holderOf(l) != "rt-eu-0" || l.Labels[ClusterLabel] != cluster {
		t.Fatalf("lease = %+v labels %v", l.Spec, l.Labels)
	}

	// Moved away while the stream still runs: the Lease stays until the stream stops.
	streaming.set("alpha")
	assign("rt-eu-1")
	checkFor(t, "assignment moved", func() bool { return len(src.Owned("rt-eu-0")) == 0 })
	// A round renews the node Lease (which keeps every tenant Lease of the pod).
	before := getNodeLease(t, ns, "rt-eu-0").Spec.RenewTime.Time
	h.Kick()
	checkFor(t, "a renewal round after the move", func() bool {
		return getNodeLease(t, ns, "rt-eu-0").Spec.RenewTime.After(before)
	})
	if l := getLease(t, ns, "alpha"); holderOf(l) != "rt-eu-0" || !h.Holds("alpha") {
		t.Fatalf("lease dropped while the stream still runs: holder %q", holderOf(l))
	}
	streaming.set()
	h.Kick()
	checkFor(t, "lease released after the stream stopped", func() bool {
		return holderOf(getLease(t, ns, "alpha")) == "" && !h.Holds("alpha")
	})
}

// TestDeletingTenantIsNotOwned: once a Tenant is being deleted (the operator's finalizer is
// dropping its slot), its owner no longer owns it and releases the Lease, so it stops streaming
// instead of reconnecting and recreating the slot the finalizer drops.
func TestDeletingTenantIsNotOwned(t *testing.T) {
	ns := newNamespace(t)
	putSecret(t, ns, "alpha-jwt", map[string]string{"secret": "jwt"})
	putSecret(t, ns, "alpha-db", map[string]string{"password": "pw"})
	u := tenantObj(ns, "alpha", cluster, alphaSpec())
	u.SetFinalizers([]string{"test.realtimeops.io/hold"}) // stands in for the operator's finalizer
	createTenant(t, u)
	t.Cleanup(func() {
		updateTenant(t, ns, "alpha", false, func(u *unstructured.Unstructured) { u.SetFinalizers(nil) })
	})
	src, _ := startSource(t, ns, cluster)
	h := src.LeaseHolder(kubeCS, "rt-eu-0", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	updateTenant(t, ns, "alpha", true, func(u *unstructured.Unstructured) {
		set(t, u, "rt-eu-0", "status", "replication", "node")
	})
	checkFor(t, "lease acquired on assignment", func() bool { return h.Holds("alpha") })

	if err := dynCS.Resource(TenantGVR).Namespace(ns).Delete(testCtx(t), "alpha", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, "deleting tenant no longer owned", func() bool { return len(src.Owned("rt-eu-0")) == 0 })
	checkFor(t, "lease released", func() bool {
		return holderOf(getLease(t, ns, "alpha")) == "" && !h.Holds("alpha")
	})
}
