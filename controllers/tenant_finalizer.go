package controllers

import (
	"context"
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// finalize drops the tenant's replication slot (best effort, bounded by SlotDropTimeout, the
// outcome reported in an event), releases the password Secret and then the Tenant. A slot left
// behind would retain WAL on the tenant's database forever, so it is worth a try; a database that
// is gone must not keep the Tenant from being deleted, so failure does not block.
//
// Namespace deletion removes the Tenant and its Secrets at once: the password Secret carries
// SecretFinalizer while a slot may exist, so it is still readable here.
func (r *TenantReconciler) finalize(ctx context.Context, t *realtimev1.Tenant) error {
	if !controllerutil.ContainsFinalizer(t, realtimev1.TenantFinalizer) {
		return nil
	}
	// The recorded slot database (an old one whose drop is still pending) and the spec's.
	view := t.DeepCopy()
	view.Default()
	var dbs []*realtimev1.SlotDatabase
	if db := t.Status.SlotDatabase; db != nil {
		dbs = append(dbs, db)
	}
	if db := view.SlotDatabaseFor(); db != nil && (len(dbs) == 0 || !dbs[0].SameSlot(db)) {
		dbs = append(dbs, db)
	}
	for _, db := range dbs {
		_, _ = r.dropSlotAt(ctx, t, db, "the Tenant is deleted")
		if err := r.releaseSecretFinalizer(ctx, t, db.PasswordSecretRef.Name); err != nil {
			return err
		}
	}
	if err := r.deleteLease(ctx, t); err != nil {
		return err
	}
	base := t.DeepCopy()
	controllerutil.RemoveFinalizer(t, realtimev1.TenantFinalizer)
	if err := r.Patch(ctx, t, client.MergeFrom(base)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// deleteLease removes the tenant's fencing Lease: nodes create it without an owner reference (they
// may not own the Tenant), so nothing else would ever collect it.
func (r *TenantReconciler) deleteLease(ctx context.Context, t *realtimev1.Tenant) error {
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: t.Namespace, Name: t.LeaseName()}}
	if err := r.Delete(ctx, lease); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete lease %s: %w", lease.Name, err)
	}
	return nil
}
