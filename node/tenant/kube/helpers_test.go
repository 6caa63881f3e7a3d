package kube

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/node/tenant"
)

const waitFor = 20 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newNamespace creates a namespace of its own for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns, err := kubeCS.CoreV1().Namespaces().Create(testCtx(t), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "kube-src-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

func putSecret(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	ctx := testCtx(t)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if _, err := kubeCS.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
}

// updateSecret applies fn to the current Secret and writes it back.
func updateSecret(t *testing.T, ns, name string, fn func(*corev1.Secret)) {
	t.Helper()
	ctx := testCtx(t)
	s, err := kubeCS.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get secret %s: %v", name, err)
	}
	fn(s)
	if _, err := kubeCS.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update secret %s: %v", name, err)
	}
}

func tenantObj(ns, name, cluster string, spec map[string]any) *unstructured.Unstructured {
	spec["clusterRef"] = map[string]any{"name": cluster}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "realtime.realtimeops.io/v1alpha1",
		"kind":       "Tenant",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       spec,
	}}
}

func createTenant(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	_, err := dynCS.Resource(TenantGVR).Namespace(u.GetNamespace()).Create(testCtx(t), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create tenant %s: %v", u.GetName(), err)
	}
}

// updateTenant applies fn to the current Tenant and writes the spec (status=false) or status.
func updateTenant(t *testing.T, ns, name string, status bool, fn func(*unstructured.Unstructured)) {
	t.Helper()
	ctx := testCtx(t)
	ri := dynCS.Resource(TenantGVR).Namespace(ns)
	u, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get tenant %s: %v", name, err)
	}
	fn(u)
	if status {
		_, err = ri.UpdateStatus(ctx, u, metav1.UpdateOptions{})
	} else {
		_, err = ri.Update(ctx, u, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("update tenant %s (status=%v): %v", name, status, err)
	}
}

func set(t *testing.T, u *unstructured.Unstructured, value any, path ...string) {
	t.Helper()
	if err := unstructured.SetNestedField(u.Object, value, path...); err != nil {
		t.Fatalf("set %v: %v", path, err)
	}
}

// startSource runs a Source until the test ends and returns it once Ready, with a channel of
// every event it delivers.
func startSource(t *testing.T, ns, cluster string) (*Source, <-chan tenant.Event) {
	t.Helper()
	src, err := New(Config{Namespace: ns, ClusterName: cluster, Dynamic: dynCS, Kube: kubeCS})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan tenant.Event, 100)
	src.Subscribe(func(ev tenant.Event) { events <- ev })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("source run: %v", err)
		}
	})
	readyCtx, readyCancel := context.WithTimeout(ctx, waitFor)
	defer readyCancel()
	if err := src.WaitReady(readyCtx); err != nil {
		t.Fatal(err)
	}
	return src, events
}

func nextEvent(t *testing.T, events <-chan tenant.Event) tenant.Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(waitFor):
		t.Fatalf("no tenant event within %s", waitFor)
		return tenant.Event{}
	}
}

func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitFor):
		t.Fatalf("no %s signal within %s", what, waitFor)
	}
}

// checkFor polls cond until it holds or waitFor passes.
func checkFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, waitFor, what, cond)
}

func eventName(ev tenant.Event) (string, string) {
	switch {
	case ev.Old == nil && ev.New != nil:
		return "add", ev.New.ExternalID
	case ev.Old != nil && ev.New == nil:
		return "delete", ev.Old.ExternalID
	case ev.Old != nil && ev.New != nil:
		return "update", ev.New.ExternalID
	}
	return "empty", ""
}

func expectEvent(t *testing.T, events <-chan tenant.Event, kind, externalID string) tenant.Event {
	t.Helper()
	ev := nextEvent(t, events)
	if k, id := eventName(ev); k != kind || id != externalID {
		t.Fatalf("event = %s %s, want %s %s", k, id, kind, externalID)
	}
	return ev
}

func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// drain empties a coalescing signal channel.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}
