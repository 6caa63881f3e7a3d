package controllers

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/tenantlease"
)

// Field indexes used to map watched objects to Tenants without listing everything.
const (
	indexTenantCluster = "spec.clusterRef.name"
	indexTenantSecrets = "spec.secretNames"
	indexPodNode       = "spec.nodeName"
)

// SetupWithManager registers the indexes and the watches: every input of placement is watched
// (pods of the cluster, their Kubernetes nodes, the Lease, the Secrets, the cluster), so moves
// happen on events and never wait for a poll.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &realtimev1.Tenant{}, indexTenantCluster, func(o client.Object) []string {
		return []string{o.(*realtimev1.Tenant).Spec.ClusterRef.Name}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &realtimev1.Tenant{}, indexTenantSecrets, func(o client.Object) []string {
		var names []string
		for _, ref := range o.(*realtimev1.Tenant).SecretRefs() {
			names = append(names, ref.Name)
		}
		return names
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &corev1.Pod{}, indexPodNode, func(o client.Object) []string {
		return []string{o.(*corev1.Pod).Spec.NodeName}
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&realtimev1.Tenant{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.podToTenants),
			builder.WithPredicates(predicate.Funcs{UpdateFunc: podPlacementChanged})).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.nodeToTenants),
			builder.WithPredicates(predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
				return e.ObjectOld.(*corev1.Node).Spec.Unschedulable != e.ObjectNew.(*corev1.Node).Spec.Unschedulable
			}})).
		Watches(&coordinationv1.Lease{}, r.rttLeaseHandler()).
		Watches(&coordinationv1.Lease{}, handler.EnqueueRequestsFromMapFunc(r.leaseToTenants),
			builder.WithPredicates(predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
				return leaseChanged(e.ObjectOld.(*coordinationv1.Lease), e.ObjectNew.(*coordinationv1.Lease))
			}})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretToTenants)).
		Watches(&realtimev1.RealtimeCluster{}, handler.EnqueueRequestsFromMapFunc(r.clusterToTenants)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Named("tenant").
		Complete(r)
}

// podPlacementChanged passes pod updates that can change placement: readiness, termination,
// draining, region, scheduling.
func podPlacementChanged(e event.UpdateEvent) bool {
	o, n := e.ObjectOld.(*corev1.Pod), e.ObjectNew.(*corev1.Pod)
	return podReady(o) != podReady(n) ||
		(o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil) ||
		o.Annotations[realtimev1.DrainingAnnotation] != n.Annotations[realtimev1.DrainingAnnotation] ||
		o.Labels[realtimev1.RegionLabel] != n.Labels[realtimev1.RegionLabel] ||
		o.Labels[realtimev1.ClusterLabel] != n.Labels[realtimev1.ClusterLabel] ||
		o.Spec.NodeName != n.Spec.NodeName
}

func (r *TenantReconciler) tenantsMatching(ctx context.Context, ns string, field client.MatchingFields) []reconcile.Request {
	var list realtimev1.TenantList
	if err := r.List(ctx, &list, client.InNamespace(ns), field); err != nil {
		logFrom(ctx).Error(err, "list tenants for watch mapping")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

func (r *TenantReconciler) podToTenants(ctx context.Context, o client.Object) []reconcile.Request {
	cluster := o.GetLabels()[realtimev1.ClusterLabel]
	if cluster == "" {
		return nil
	}
	return r.tenantsMatching(ctx, o.GetNamespace(), client.MatchingFields{indexTenantCluster: cluster})
}

func (r *TenantReconciler) nodeToTenants(ctx context.Context, o client.Object) []reconcile.Request {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.MatchingFields{indexPodNode: o.GetName()}); err != nil {
		logFrom(ctx).Error(err, "list pods of node")
		return nil
	}
	var reqs []reconcile.Request
	for i := range pods.Items {
		reqs = append(reqs, r.podToTenants(ctx, &pods.Items[i])...)
	}
	return reqs
}

// leaseToTenants maps a tenant Lease to its Tenant, and a node Lease to the Tenants of its
// cluster (a node Lease stands for every tenant its pod holds: an epoch change or a renewal after
// expiry concerns them all).
func (r *TenantReconciler) leaseToTenants(ctx context.Context, o client.Object) []reconcile.Request {
	if name, ok := tenantlease.TenantOf(o.GetName()); ok {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
	}
	if _, ok := tenantlease.PodOf(o.GetName()); ok {
		if cluster := o.GetLabels()[realtimev1.ClusterLabel]; cluster != "" {
			return r.tenantsMatching(ctx, o.GetNamespace(), client.MatchingFields{indexTenantCluster: cluster})
		}
	}
	return nil
}

func (r *TenantReconciler) secretToTenants(ctx context.Context, o client.Object) []reconcile.Request {
	return r.tenantsMatching(ctx, o.GetNamespace(), client.MatchingFields{indexTenantSecrets: o.GetName()})
}

func (r *TenantReconciler) clusterToTenants(ctx context.Context, o client.Object) []reconcile.Request {
	return r.tenantsMatching(ctx, o.GetNamespace(), client.MatchingFields{indexTenantCluster: o.GetName()})
}
