package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// SecretFinalizer keeps a tenant's database password Secret readable while the tenant's
// replication slot may exist, so the slot can still be dropped when a namespace deletion removes
// the Tenant and its Secrets together.
const SecretFinalizer = "realtime.realtimeops.io/tenant-slot"

// The slot rules (docs/operations.md, "Replication slots"):
//   - the Tenant is deleted: the slot is dropped (best effort, the Tenant never waits for it);
//   - spec.database is removed or points to another host, port, database or slot: the old slot
//     is dropped, retried until it succeeds (a SlotDropFailed warning each time);
//   - the tenant is suspended with slotPolicy dropWhenSuspended (the default): the slot is
//     dropped, and the owner node re-creates it on resume; with keep it stays and is watched.

// reconcileSlot applies those rules, probes the database and sets the health conditions.
func (r *TenantReconciler) reconcileSlot(ctx context.Context, t *realtimev1.Tenant, st *realtimev1.TenantStatus, lh leaseHealth) error {
	want := t.SlotDatabaseFor()
	if old := st.SlotDatabase; old != nil && !old.SameSlot(want) {
		why := "spec.database was removed"
		if want != nil {
			why = "spec.database now points to another database"
		}
		if _, err := r.dropSlotAt(ctx, t, old, why); err == nil {
			if want == nil || want.PasswordSecretRef.Name != old.PasswordSecretRef.Name {
				if err := r.releaseSecretFinalizer(ctx, t, old.PasswordSecretRef.Name); err != nil {
					return err
				}
			}
			st.SlotDatabase = nil
		}
	}
	if want == nil {
		clearHealth(st)
		return nil
	}
	if st.SlotDatabase == nil || st.SlotDatabase.SameSlot(want) {
		st.SlotDatabase = want // the same slot with new credentials, or a new slot
	}
	if err := r.ensureSecretFinalizer(ctx, t, want.PasswordSecretRef.Name); err != nil {
		return err
	}
	password, err := r.password(ctx, t.Namespace, want.PasswordSecretRef)
	if err != nil {
		return err
	}
	var probe probeResult
	if password == nil {
		probe.ConnectErr = fmt.Errorf("password Secret %q or its key %q is missing", want.PasswordSecretRef.Name, want.PasswordSecretRef.Key)
	} else {
		pctx, cancel := context.WithTimeout(ctx, r.slotTimeout())
		probe = probeSlot(pctx, slotURL(want, string(*password)), want.Slot)
		cancel()
	}
	if t.Spec.Suspend && t.SlotPolicyEffective() == realtimev1.SlotDropWhenSuspended && probe.Slot.Exists {
		if dropped, err := r.dropSlotAt(ctx, t, want, "the tenant is suspended (slotPolicy dropWhenSuspended)"); err == nil && dropped {
			probe.Slot = slotStats{}
		}
	}
	for _, ev := range applyHealth(st, t, probe, lh, r.now()) {
		r.Recorder.Eventf(t, nil, ev.Type, ev.Reason, "CheckSlot", "%s", ev.Message)
	}
	return nil
}

func (r *TenantReconciler) slotTimeout() time.Duration {
	if r.SlotDropTimeout > 0 {
		return r.SlotDropTimeout
	}
	return DefaultSlotDropTimeout
}

// password reads a Secret key (nil when the Secret or key is missing).
func (r *TenantReconciler) password(ctx context.Context, ns string, ref realtimev1.SecretKeySelector) (*[]byte, error) {
	s := &corev1.Secret{}
	if err := r.secrets().get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, s); apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", ref.Name, err)
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		return nil, nil
	}
	return &v, nil
}

// dropSlotAt drops the slot of db, reporting the outcome in an event; it returns whether a slot
// was dropped and an error when the drop did not happen (the slot may still exist).
func (r *TenantReconciler) dropSlotAt(ctx context.Context, t *realtimev1.Tenant, db *realtimev1.SlotDatabase, why string) (bool, error) {
	where := fmt.Sprintf("%s:%d/%s", db.Host, db.Port, db.Name)
	fail := func(reason string, err error) (bool, error) {
		logFrom(ctx).Info("replication slot not dropped", "tenant", t.Name, "slot", db.Slot, "reason", reason, "err", err.Error())
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, reason, "DropSlot", "slot %s not dropped from %s (%s): %v", db.Slot, where, why, err)
		return false, err
	}
	password, err := r.password(ctx, t.Namespace, db.PasswordSecretRef)
	if err != nil {
		return fail("SlotDropSkipped", err)
	}
	if password == nil {
		return fail("SlotDropSkipped", fmt.Errorf("password Secret %q or its key %q is missing", db.PasswordSecretRef.Name, db.PasswordSecretRef.Key))
	}
	dctx, cancel := context.WithTimeout(ctx, r.slotTimeout())
	defer cancel()
	dropped, err := dropReplicationSlot(dctx, slotURL(db, string(*password)), db.Slot)
	if err != nil {
		return fail("SlotDropFailed", err)
	}
	if dropped {
		logFrom(ctx).Info("replication slot dropped", "tenant", t.Name, "slot", db.Slot, "why", why)
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "SlotDropped", "DropSlot", "dropped replication slot %s from %s: %s", db.Slot, where, why)
	} else if t.DeletionTimestamp != nil {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "SlotNotFound", "DropSlot", "replication slot %s did not exist on %s", db.Slot, where)
	}
	return dropped, nil
}

func (r *TenantReconciler) ensureSecretFinalizer(ctx context.Context, t *realtimev1.Tenant, name string) error {
	s := &corev1.Secret{}
	if err := r.secrets().get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: name}, s); apierrors.IsNotFound(err) {
		return nil // SecretsResolved reports it
	} else if err != nil {
		return fmt.Errorf("get secret %s: %w", name, err)
	}
	if controllerutil.ContainsFinalizer(s, SecretFinalizer) || s.DeletionTimestamp != nil {
		return nil
	}
	base := s.DeepCopy()
	controllerutil.AddFinalizer(s, SecretFinalizer)
	if err := r.Patch(ctx, s, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("add finalizer to secret %s: %w", name, err)
	}
	return nil
}

// releaseSecretFinalizer removes SecretFinalizer from the Secret unless another Tenant's slot
// still needs it.
func (r *TenantReconciler) releaseSecretFinalizer(ctx context.Context, t *realtimev1.Tenant, name string) error {
	var list realtimev1.TenantList
	if err := r.List(ctx, &list, client.InNamespace(t.Namespace)); err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	users := slices.ContainsFunc(list.Items, func(o realtimev1.Tenant) bool {
		return o.Name != t.Name && o.Status.SlotDatabase != nil && o.Status.SlotDatabase.PasswordSecretRef.Name == name &&
			controllerutil.ContainsFinalizer(&o, realtimev1.TenantFinalizer)
	})
	if users {
		return nil
	}
	s := &corev1.Secret{}
	if err := r.secrets().get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: name}, s); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("get secret %s: %w", name, err)
	}
	if !controllerutil.ContainsFinalizer(s, SecretFinalizer) {
		return nil
	}
	base := s.DeepCopy()
	controllerutil.RemoveFinalizer(s, SecretFinalizer)
	if err := r.Patch(ctx, s, client.MergeFrom(base)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("remove finalizer from secret %s: %w", name, err)
	}
	return nil
}
