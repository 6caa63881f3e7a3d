package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// A Broadcast-only Tenant (no database, so no placement) whose clusterRef names no cluster is
// served by nobody: it must not be Ready.
func TestTenantWithoutClusterNotReady(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns)
	tn := testTenant(ns, "orphan", "no-such-cluster", "")
	mustCreate(t, tn)
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		r := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantReady))
		f := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantClusterFound))
		if r == nil || r.Status != metav1.ConditionFalse || r.Reason != string(realtimev1.ReasonClusterNotFound) ||
			f == nil || f.Status != metav1.ConditionFalse {
			return fmt.Errorf("conditions %+v", tn.Status.Conditions)
		}
		return nil
	})
	if err := findEvent(context.Background(), ns, "orphan", string(realtimev1.ReasonClusterNotFound)); err != nil {
		t.Fatal(err)
	}
	// The cluster appears: the tenant becomes Ready without a poke (clusters are watched).
	mustCreate(t, twoRegionCluster(ns, "no-such-cluster", 2))
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if !meta.IsStatusConditionTrue(tn.Status.Conditions, string(realtimev1.TenantReady)) {
			return fmt.Errorf("conditions %+v", tn.Status.Conditions)
		}
		return nil
	})
}

// An API error in the middle of a reconcile reaches the status (Ready=False, ReconcileFailed,
// with the error) and a warning event, and is returned for a retry. The error is injected into
// the reconciler's client for Secret reads; everything else goes to the real apiserver. The
// status write is captured (the suite's own controller also reconciles the tenant).
func TestTenantReconcileErrorReported(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	tn := testTenant(ns, "flaky", "rt", "")
	mustCreate(t, tn)
	base, err := client.NewWithWatch(testCfg, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	var written *realtimev1.Tenant
	c := interceptor.NewClient(base, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				return errors.New("etcdserver: request timed out")
			}
			return c.Get(ctx, key, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			written = obj.(*realtimev1.Tenant).DeepCopy()
			return nil
		},
	})
	rec := events.NewFakeRecorder(10)
	r := &TenantReconciler{Client: c, Scheme: testScheme, Recorder: rec}
	_, err = r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(tn)})
	if err == nil || !strings.Contains(err.Error(), "request timed out") {
		t.Fatalf("reconcile error %v", err)
	}
	if written == nil {
		t.Fatal("no status written after the failure")
	}
	ready := meta.FindStatusCondition(written.Status.Conditions, string(realtimev1.TenantReady))
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != string(realtimev1.ReasonReconcileFailed) ||
		!strings.Contains(ready.Message, "request timed out") {
		t.Fatalf("ready %+v", ready)
	}
	select {
	case e := <-rec.Events:
		if !strings.Contains(e, "Warning ReconcileFailed") || !strings.Contains(e, "request timed out") {
			t.Fatalf("event %q", e)
		}
	default:
		t.Fatal("no event")
	}
}
