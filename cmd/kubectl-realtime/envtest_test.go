package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/realtimeops/realtime/internal/envtestbin"
)

// TestAgainstAPIServer runs the golden commands and a drain against a real kube-apiserver and
// etcd (envtest) with the CRDs of config/crd/bases: the objects are created and their status
// written through the status subresource as the operator writes them, the pod's draining mark is
// a real merge patch, and a goroutine plays the operator's move.
func TestAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no API server")
	}
	dir, err := envtestbin.Dir()
	if err != nil {
		t.Fatal(err)
	}
	tenv := &envtest.Environment{BinaryAssetsDirectory: dir, ErrorIfCRDPathMissing: true,
		CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}}
	cfg, err := tenv.Start()
	if err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = tenv.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: testScheme(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range twoRegions() {
		status := obj.DeepCopyObject().(client.Object)
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
		if _, isEvent := obj.(*corev1.Event); isEvent {
			continue
		}
		status.SetResourceVersion(obj.GetResourceVersion())
		if err := c.Status().Update(ctx, status); err != nil {
			t.Fatalf("status of %T %s: %v", obj, obj.GetName(), err)
		}
	}
	testGolden(t, c)
	testMoveAndDrain(t, c)
}
