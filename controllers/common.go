package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// FieldOwner is the server-side apply field manager of the operator.
const FieldOwner = "realtime-operator"

const (
	managedByLabel = "app.kubernetes.io/managed-by"
	managedByValue = "realtime-operator"
)

// applyResult says what server-side apply did to an object.
type applyResult string

const (
	applyCreated   applyResult = "Created"
	applyUpdated   applyResult = "Updated"
	applyUnchanged applyResult = "Unchanged"
)

// applyOwned server-side applies obj (a typed object built by a pure builder) with owner as its
// controller. Status and zero timestamps are dropped first so the operator only claims the fields
// it sets. It reports whether the object was created, changed or left alone.
func applyOwned(ctx context.Context, c client.Client, scheme *runtime.Scheme, owner metav1.Object, obj client.Object) (applyResult, error) {
	if err := controllerutil.SetControllerReference(owner, obj, scheme); err != nil {
		return "", fmt.Errorf("owner reference on %s: %w", obj.GetName(), err)
	}
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return "", err
	}
	existing := obj.DeepCopyObject().(client.Object)
	before := ""
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), existing); err == nil {
		if err := checkNameOwner(owner, existing, gvk.Kind); err != nil {
			return "", err
		}
		before = existing.GetResourceVersion()
	} else if client.IgnoreNotFound(err) != nil {
		return "", fmt.Errorf("get %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", fmt.Errorf("convert %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return "", fmt.Errorf("apply %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	switch {
	case before == "":
		return applyCreated, nil
	case before != u.GetResourceVersion():
		return applyUpdated, nil
	default:
		return applyUnchanged, nil
	}
}

// checkNameOwner refuses to take over an object that belongs to someone else. Derived names are
// collision-free within a cluster and across Services (CEL forbids cluster names ending in
// -nodes), but "<cluster>-<region>" of cluster "a" region "b-x" equals that of cluster "a-b"
// region "x": the second cluster reports the conflict instead of fighting over the object.
func checkNameOwner(owner metav1.Object, existing client.Object, kind string) error {
	ctl := metav1.GetControllerOf(existing)
	if ctl != nil && ctl.UID == owner.GetUID() {
		return nil
	}
	by := "no controller (created outside the operator)"
	if ctl != nil {
		by = fmt.Sprintf("%s %s", ctl.Kind, ctl.Name)
	}
	return specErrorf(realtimev1.ReasonNameConflict, "%s %s already exists and belongs to %s; rename this RealtimeCluster or its region",
		kind, existing.GetName(), by)
}

// withWatched adds WatchedSecretLabel (Secrets the operator generates are cached from the start).
func withWatched(l map[string]string) map[string]string {
	l[WatchedSecretLabel] = "true"
	return l
}

func withManagedBy(l map[string]string) map[string]string {
	out := make(map[string]string, len(l)+1)
	for k, v := range l {
		out[k] = v
	}
	out[managedByLabel] = managedByValue
	return out
}

func ptr[T any](v T) *T { return &v }
