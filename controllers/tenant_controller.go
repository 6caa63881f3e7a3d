package controllers

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// DefaultHealthInterval is how often the operator checks a tenant's database and slot: tenant
// health reflects reality within this plus one reconcile.
const DefaultHealthInterval = 15 * time.Second

// TenantReconciler resolves a Tenant's Secrets, assigns its WAL work to the nearest ready node
// pod, moves it when the owner fails, and drops its replication slot on deletion.
type TenantReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	// SlotDropTimeout bounds the finalizer's database work (DefaultSlotDropTimeout when 0).
	SlotDropTimeout time.Duration
	// HealthInterval is how often the database and slot are checked (DefaultHealthInterval when 0).
	HealthInterval time.Duration
	// Now is the clock (time.Now when nil); placement itself is pure and takes the time as input.
	Now func() time.Time
	// APIReader reads Secrets the label-selected cache does not hold yet (manager.GetAPIReader;
	// nil: the cache only, for clients that cache every Secret).
	APIReader client.Reader

	rttDocs rttDocCache // decoded RTT Lease documents by resourceVersion (tenant_rtt.go)
}

func (r *TenantReconciler) secrets() secretReader {
	return secretReader{cached: r.Client, direct: r.APIReader}
}

func (r *TenantReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile is guard clauses plus an ordered list of small steps writing into one status. A
// failing step is reported in Ready (reason ReconcileFailed) and a warning event before the
// error is returned for a retry with backoff.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	t := &realtimev1.Tenant{}
	if err := r.Get(ctx, req.NamespacedName, t); err != nil {
		if apierrors.IsNotFound(err) {
			forgetTenant(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, t)
	}
	// The slot exists only with a database; the finalizer must be in place before any node
	// is told to create it.
	if (t.Spec.Database != nil || t.Status.SlotDatabase != nil) && !controllerutil.ContainsFinalizer(t, realtimev1.TenantFinalizer) {
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

	requeue, err := r.reconcileSteps(ctx, view, next)
	if err != nil {
		logFrom(ctx).Error(err, "tenant reconcile failed", "tenant", t.Name)
		if setCondition(next, t.Generation, realtimev1.TenantReady, false, realtimev1.ReasonReconcileFailed, err.Error()) {
			r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, string(realtimev1.ReasonReconcileFailed), "Reconcile", "%v", err)
		}
		if serr := r.writeStatus(ctx, t, next); serr != nil {
			logFrom(ctx).Error(serr, "status update after a failed reconcile", "tenant", t.Name)
		}
		return ctrl.Result{}, err
	}
	exportTenant(view, next)
	if err := r.writeStatus(ctx, t, next); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// reconcileSteps runs the steps in order and returns when to look again.
func (r *TenantReconciler) reconcileSteps(ctx context.Context, view *realtimev1.Tenant, next *realtimev1.TenantStatus) (time.Duration, error) {
	// 1. The cluster: without it no node serves the tenant, database or not.
	cluster, err := r.findCluster(ctx, view, next)
	if err != nil {
		return 0, err
	}
	// 2. Secrets: a node cannot serve a tenant whose keys or password it cannot read.
	secretsOK, err := r.resolveSecrets(ctx, view, next)
	if err != nil {
		return 0, err
	}
	// 3. Placement and fencing: who owns the WAL work, and when to look again (lease expiry).
	requeue, lease, err := r.reconcilePlacement(ctx, view, cluster, next)
	if err != nil {
		return 0, err
	}
	// 4. The replication slot: drop it where the rules say so (database removed or moved,
	// suspended), and observe it in the database: health conditions, lag, WAL status.
	if view.Spec.Database != nil || next.SlotDatabase != nil {
		if err := r.reconcileSlot(ctx, view, next, lease); err != nil {
			return 0, err
		}
		// Nothing announces a lag or a dead stream: look again after the health interval.
		if h := r.healthInterval(); requeue == 0 || h < requeue {
			requeue = h
		}
	}
	// 5. Ready summarises the other conditions for kubectl wait.
	setTenantReady(next, view, cluster != nil, secretsOK)
	if !secretsOK && (requeue == 0 || missingSecretRecheck < requeue) {
		requeue = missingSecretRecheck // a new Secret has no label yet: no watch event announces it
	}
	return requeue, nil
}

func (r *TenantReconciler) healthInterval() time.Duration {
	if r.HealthInterval > 0 {
		return r.HealthInterval
	}
	return DefaultHealthInterval
}

// findCluster reads the RealtimeCluster of spec.clusterRef (nil when it does not exist) and
// sets ClusterFound, with an event when it changes.
func (r *TenantReconciler) findCluster(ctx context.Context, t *realtimev1.Tenant, st *realtimev1.TenantStatus) (*realtimev1.RealtimeCluster, error) {
	cluster := &realtimev1.RealtimeCluster{}
	err := r.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Spec.ClusterRef.Name}, cluster)
	if apierrors.IsNotFound(err) {
		msg := fmt.Sprintf("RealtimeCluster %q not found in namespace %s", t.Spec.ClusterRef.Name, t.Namespace)
		if setCondition(st, t.Generation, realtimev1.TenantClusterFound, false, realtimev1.ReasonClusterNotFound, msg) {
			r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, string(realtimev1.ReasonClusterNotFound), "FindCluster", "%s", msg)
		}
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("get cluster %s: %w", t.Spec.ClusterRef.Name, err)
	}
	setCondition(st, t.Generation, realtimev1.TenantClusterFound, true, realtimev1.ReasonClusterFound,
		fmt.Sprintf("served by RealtimeCluster %q", cluster.Name))
	return cluster, nil
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

func setTenantReady(st *realtimev1.TenantStatus, t *realtimev1.Tenant, clusterFound, secretsOK bool) {
	ok, reason, msg := true, realtimev1.ReasonTenantReady, "tenant is served"
	assigned := meta.FindStatusCondition(st.Conditions, string(realtimev1.TenantAssigned))
	switch {
	case t.Spec.Suspend:
		ok, reason, msg = false, realtimev1.ReasonSuspended, "tenant is suspended"
	case !clusterFound:
		ok, reason, msg = false, realtimev1.ReasonClusterNotFound, fmt.Sprintf("RealtimeCluster %q not found (see ClusterFound)", t.Spec.ClusterRef.Name)
	case !secretsOK:
		ok, reason, msg = false, realtimev1.ReasonSecretsUnresolved, "referenced Secrets are missing (see SecretsResolved)"
	case t.NeedsOwner() && (assigned == nil || assigned.Status != metav1.ConditionTrue):
		ok, reason, msg = false, realtimev1.ReasonNotAssigned, "WAL work has no ready owner (see Assigned)"
	case t.NeedsOwner() && !meta.IsStatusConditionTrue(st.Conditions, string(realtimev1.TenantOwnerLeaseHeld)):
		ok, reason, msg = false, realtimev1.ReasonLeaseNotHeld, "the owner does not hold its Lease (see OwnerLeaseHeld)"
	case t.NeedsOwner() && !meta.IsStatusConditionTrue(st.Conditions, string(realtimev1.TenantDatabaseReachable)):
		ok, reason, msg = false, realtimev1.ReasonNotReachable, "the database is not reachable (see DatabaseReachable)"
	case t.NeedsOwner() && !meta.IsStatusConditionTrue(st.Conditions, string(realtimev1.TenantReplicationStreaming)):
		ok, reason, msg = false, realtimev1.ReasonNotStreaming, "the owner does not stream the slot (see ReplicationStreaming)"
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
