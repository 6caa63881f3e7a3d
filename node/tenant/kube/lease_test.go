package kube

import (
	"context"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/realtimeops/realtime/internal/tenantlease"
)

// tenantList is a Tenants func the test changes while a holder runs.
type tenantList struct {
	mu    sync.Mutex
	names []string
}

func (l *tenantList) set(names ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = names
}

func (l *tenantList) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.names...)
}

// runHolder runs a LeaseHolder until stop is called (which waits for its releases).
func runHolder(t *testing.T, ns, pod string, tenants *tenantList) (h *LeaseHolder, stop func()) {
	t.Helper()
	h = &LeaseHolder{Client: kubeCS, Namespace: ns, Identity: pod, Tenants: tenants.get,
		Labels: map[string]string{"realtime.realtimeops.io/cluster": cluster}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("lease holder %s: %v", pod, err)
			}
		})
	}
	t.Cleanup(stop)
	return h, stop
}

func getLease(t *testing.T, ns, tenantName string) *coordinationv1.Lease {
	t.Helper()
	l, err := kubeCS.CoordinationV1().Leases(ns).Get(testCtx(t), LeaseName(tenantName), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get lease of %s: %v", tenantName, err)
	}
	return l
}

func getNodeLease(t *testing.T, ns, pod string) *coordinationv1.Lease {
	t.Helper()
	l, err := kubeCS.CoordinationV1().Leases(ns).Get(testCtx(t), tenantlease.NodeLeaseName(pod), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get node lease of %s: %v", pod, err)
	}
	return l
}

func TestLeaseHolderAcquireRenewRelease(t *testing.T) {
	ns := newNamespace(t)
	aList, bList := &tenantList{}, &tenantList{}
	aList.set("acme", "globex")
	a, stopA := runHolder(t, ns, "rt-eu-0", aList)
	checkFor(t, "pod A holds both leases", func() bool { return a.Holds("acme") && a.Holds("globex") })
	equalStrings(t, "Held", a.Held(), []string{"acme", "globex"})

	l := getLease(t, ns, "acme")
	if holderOf(l) != "rt-eu-0" || *l.Spec.LeaseDurationSeconds != 15 || l.Labels["realtime.realtimeops.io/cluster"] != cluster {
		t.Fatalf("lease = %+v labels %v", l.Spec, l.Labels)
	}
	// One write per pod renews every tenant: the node Lease moves, the tenant Leases do not.
	node := getNodeLease(t, ns, "rt-eu-0")
	if e := tenantlease.FormatEpoch(tenantlease.Epoch(node)); l.Annotations[tenantlease.EpochAnnotation] != e {
		t.Fatalf("tenant lease epoch %q, node lease epoch %s", l.Annotations[tenantlease.EpochAnnotation], e)
	}
	firstRenew := node.Spec.RenewTime.Time
	a.Kick()
	checkFor(t, "node lease renewal", func() bool { return getNodeLease(t, ns, "rt-eu-0").Spec.RenewTime.After(firstRenew) })
	if rv := getLease(t, ns, "acme").ResourceVersion; rv != l.ResourceVersion {
		t.Fatalf("tenant lease rewritten by a renewal (resourceVersion %s -> %s)", l.ResourceVersion, rv)
	}

	// The assignment moves acme to pod B while A still holds it: B must wait. B is driven
	// step by step (sync is one round of Run) so each step is observed.
	ctx := testCtx(t)
	bList.set("acme")
	b := &LeaseHolder{Client: kubeCS, Namespace: ns, Identity: "rt-eu-1", Tenants: bList.get}
	b.init()
	b.sync(ctx)
	if b.Holds("acme") {
		t.Fatal("pod B took a live lease held by pod A")
	}

	// A lets go of acme (no longer assigned): released, and B acquires it at once.
	aList.set("globex")
	a.Kick()
	checkFor(t, "A released acme", func() bool { return holderOf(getLease(t, ns, "acme")) == "" })
	if a.Holds("acme") {
		t.Fatal("A still claims acme")
	}
	b.sync(ctx)
	if !b.Holds("acme") {
		t.Fatal("B did not acquire the released lease")
	}
	l = getLease(t, ns, "acme")
	if holderOf(l) != "rt-eu-1" || l.Spec.LeaseTransitions == nil || *l.Spec.LeaseTransitions != 1 {
		t.Fatalf("after handoff lease = %+v", l.Spec)
	}

	// Stopping (SIGTERM) releases every held lease.
	stopA()
	if h := holderOf(getLease(t, ns, "globex")); h != "" {
		t.Fatalf("globex holder after stop = %q, want released", h)
	}
	b.releaseAll(ctx)
	if h := holderOf(getLease(t, ns, "acme")); h != "" || b.Holds("acme") {
		t.Fatalf("acme holder after release = %q, want released", h)
	}
}

func TestLeaseHolderTakesOverExpiredLease(t *testing.T) {
	ns := newNamespace(t)
	old := time.Now().Add(-time.Minute)
	ghost := newLease(ns, "initech", "rt-dead-0", nil, old, 15*time.Second, 0)
	if _, err := kubeCS.CoordinationV1().Leases(ns).Create(testCtx(t), ghost, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	live := newLease(ns, "hooli", "rt-live-0", nil, time.Now(), time.Hour, 0)
	if _, err := kubeCS.CoordinationV1().Leases(ns).Create(testCtx(t), live, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	list := &tenantList{}
	list.set("initech", "hooli")
	h, _ := runHolder(t, ns, "rt-eu-2", list)
	checkFor(t, "expired lease taken over", func() bool { return h.Holds("initech") })
	if h.Holds("hooli") {
		t.Fatal("live lease of another pod taken")
	}
	l := getLease(t, ns, "initech")
	if holderOf(l) != "rt-eu-2" || !l.Spec.AcquireTime.After(old) {
		t.Fatalf("lease = %+v", l.Spec)
	}
}
