package kube

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/realtimeops/realtime/internal/tenantlease"
)

// cutTransport fails every request while cut is set: a node partitioned from the API server.
type cutTransport struct {
	next http.RoundTripper
	cut  *atomic.Bool
}

func (c cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.cut.Load() {
		return nil, errors.New("test: partitioned from the API server")
	}
	return c.next.RoundTrip(r)
}

// TestLeaseHolderLapseStartsNewEpoch: a pod whose renewals stop loses every tenant (Holds false)
// before any reader can see its node Lease expire; another pod takes over one of them; when the
// first pod reaches the API again it starts a new epoch, cannot resume the tenant taken from it,
// and gets the other one back only by re-affirming it in the new epoch (fencing by epoch).
func TestLeaseHolderLapseStartsNewEpoch(t *testing.T) {
	ns := newNamespace(t)
	ctx := testCtx(t)
	var cut atomic.Bool
	cfg := rest.CopyConfig(restCfg)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return cutTransport{next: rt, cut: &cut} }
	aList, bList := &tenantList{}, &tenantList{}
	aList.set("acme", "globex")
	a := &LeaseHolder{Client: kubernetes.NewForConfigOrDie(cfg), Namespace: ns, Identity: "rt-a", Tenants: aList.get,
		Duration: 3 * time.Second, RenewInterval: time.Second}
	a.init()
	a.sync(ctx)
	if !a.Holds("acme") || !a.Holds("globex") {
		t.Fatalf("A holds %v, want acme and globex", a.Held())
	}
	epoch0 := tenantlease.Epoch(getNodeLease(t, ns, "rt-a"))

	// Partition A. It stops holding on its own clock, whatever the readers think.
	cut.Store(true)
	checkFor(t, "A gives up its tenants during the partition", func() bool { a.sync(ctx); return len(a.Held()) == 0 })

	// B is assigned acme; it takes it over once A's node Lease expired (read from the API).
	bList.set("acme")
	b := &LeaseHolder{Client: kubeCS, Namespace: ns, Identity: "rt-b", Tenants: bList.get,
		Duration: 3 * time.Second, RenewInterval: time.Second}
	b.init()
	checkFor(t, "B takes acme over from the lapsed A", func() bool { b.sync(ctx); return b.Holds("acme") })

	// A is back: a new epoch, acme stays B's, globex is A's again in the new epoch.
	cut.Store(false)
	a.sync(ctx)
	node := getNodeLease(t, ns, "rt-a")
	if e := tenantlease.Epoch(node); e != epoch0+1 {
		t.Fatalf("A's epoch after the lapse = %d, want %d", e, epoch0+1)
	}
	if a.Holds("acme") || holderOf(getLease(t, ns, "acme")) != "rt-b" {
		t.Fatalf("acme: A holds %v, lease holder %q; want B's", a.Holds("acme"), holderOf(getLease(t, ns, "acme")))
	}
	b.sync(ctx)
	if !b.Holds("acme") {
		t.Fatal("B lost acme to the returning A")
	}
	g := getLease(t, ns, "globex")
	if !a.Holds("globex") || g.Annotations[tenantlease.EpochAnnotation] != tenantlease.FormatEpoch(epoch0+1) {
		t.Fatalf("globex: A holds %v, lease epoch %q; want re-affirmed in epoch %d", a.Holds("globex"), g.Annotations[tenantlease.EpochAnnotation], epoch0+1)
	}
	if v := tenantlease.Read(g, node); v.Holder != "rt-a" || v.Basis != tenantlease.NodeLease || v.Expired(time.Now()) {
		t.Fatalf("globex read with A's node lease = %+v", v)
	}
}

// TestLeaseHolderRestartKeepsEpoch: a new process of the same pod (container restart) keeps the
// epoch of its live node Lease, so its tenants never look expired to the operator, and it
// re-affirms each tenant Lease by a write before streaming it.
func TestLeaseHolderRestartKeepsEpoch(t *testing.T) {
	ns := newNamespace(t)
	ctx := testCtx(t)
	list := &tenantList{}
	list.set("acme")
	first := &LeaseHolder{Client: kubeCS, Namespace: ns, Identity: "rt-a", Tenants: list.get}
	first.init()
	first.sync(ctx) // crashes now: nothing released
	before := getLease(t, ns, "acme")
	epoch := tenantlease.Epoch(getNodeLease(t, ns, "rt-a"))

	second := &LeaseHolder{Client: kubeCS, Namespace: ns, Identity: "rt-a", Tenants: list.get}
	second.init()
	second.sync(ctx)
	after := getLease(t, ns, "acme")
	if !second.Holds("acme") || tenantlease.Epoch(getNodeLease(t, ns, "rt-a")) != epoch {
		t.Fatalf("restart: holds %v, epoch %d want %d", second.Holds("acme"), tenantlease.Epoch(getNodeLease(t, ns, "rt-a")), epoch)
	}
	if after.ResourceVersion == before.ResourceVersion {
		t.Fatal("the restarted process streams a tenant it did not re-affirm by a write")
	}
}
