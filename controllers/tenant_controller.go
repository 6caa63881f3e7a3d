package controllers

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// DefaultSlotDropTimeout bounds the best-effort slot drop of the finalizer.
const DefaultSlotDropTimeout = 15 * time.Second

// TenantReconciler resolves a Tenant's Secrets, assigns its WAL work to the nearest ready node
// pod, moves it when the owner fails, and drops its replication slot on deletion.
type TenantReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	// SlotDropTimeout bounds the finalizer's database work (DefaultSlotDropTimeout when 0).
	SlotDropTimeout time.Duration
	// Now is the clock (time.Now when nil); placement itself is pure and takes the time as input.
	Now func() time.Time
}

func (r *TenantReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile is guard clauses plus an ordered list of small steps writing into one status.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	t := &realtimev1.Tenant{}
	if err := r.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, t)
	}
	// The slot exists only with a database; the finalizer must be in place before any node
	// is told to create it.
	if t.Spec.Database != nil && !controllerutil.ContainsFinalizer(t, realtimev1.TenantFinalizer) {
		base := t.DeepCopy()
		controllerutil.AddFinalizer(t, realtimev1.TenantFinalizer)
		if err := r.Patch(ctx, t, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	view := t.DeepCopy() // defaulted copy for reading; t keeps the stored spec
	view.Default()
	next := t.Status.DeepCopy()
	next.ObservedGeneration = t.Generation
	next.ExternalID = view.EffectiveExternalID()

	// 1. Secrets: a node cannot serve a tenant whose keys or password it cannot read.
	secretsOK, err := r.resolveSecrets(ctx, view, next)
	if err != nil {
		return ctrl.Result{}, err
	}
	// 2. Placement and fencing: who owns the WAL work, and when to look again (lease expiry).
	requeue, err := r.reconcilePlacement(ctx, view, next)
	if err != nil {
		return ctrl.Result{}, err
	}
	// 3. Ready summarises the other conditions for kubectl wait.
	setTenantReady(next, view, secretsOK)

	if err := r.writeStatus(ctx, t, next); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

func (r *TenantReconciler) writeStatus(ctx context.Context, t *realtimev1.Tenant, next *realtimev1.TenantStatus) error {
	if equality.Semantic.DeepEqual(*next, t.Status) {
		return nil
	}
	base := t.DeepCopy()
	t.Status = *next
	if err := r.Status().Patch(ctx, t, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("patch tenant status: %w", err)
	}
	return nil
}

func setTenantReady(st *realtimev1.TenantStatus, t *realtimev1.Tenant, secretsOK bool) {
	ok, reason, msg := true, realtimev1.ReasonTenantReady, "tenant is served"
	assigned := meta.FindStatusCondition(st.Conditions, string(realtimev1.TenantAssigned))
	switch {
	case t.Spec.Suspend:
		ok, reason, msg = false, realtimev1.ReasonSuspended, "tenant is suspended"
	case !secretsOK:
		ok, reason, msg = false, realtimev1.ReasonSecretsUnresolved, "referenced Secrets are missing (see SecretsResolved)"
	case t.NeedsOwner() && (assigned == nil || assigned.Status != metav1.ConditionTrue):
		ok, reason, msg = false, realtimev1.ReasonNotAssigned, "WAL work has no ready owner (see Assigned)"
	}
	setCondition(st, t.Generation, realtimev1.TenantReady, ok, reason, msg)
}

// setCondition sets one condition and reports whether its status or reason changed.
func setCondition(st *realtimev1.TenantStatus, gen int64, typ realtimev1.ConditionType, ok bool, reason realtimev1.ConditionReason, msg string) bool {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	old := meta.FindStatusCondition(st.Conditions, string(typ))
	changed := old == nil || old.Status != status || old.Reason != string(reason)
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: string(typ), Status: status, Reason: string(reason), Message: msg, ObservedGeneration: gen,
	})
	return changed
}

func logFrom(ctx context.Context) logr.Logger { return logr.FromContextOrDiscard(ctx) }
