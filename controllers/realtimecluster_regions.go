package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// reconcileRegions applies the StatefulSet and PDB of every region, in spec order.
func (r *RealtimeClusterReconciler) reconcileRegions(ctx context.Context, c *realtimev1.RealtimeCluster, secretsHash string) error {
	for _, region := range c.Spec.Regions {
		if err := r.applyChild(ctx, c, buildStatefulSet(c, region, secretsHash)); err != nil {
			return fmt.Errorf("region %s: %w", region.Name, err)
		}
		if err := r.applyChild(ctx, c, buildPDB(c, region)); err != nil {
			return fmt.Errorf("region %s: %w", region.Name, err)
		}
	}
	return nil
}

// pruneRegions deletes the StatefulSets and PDBs of regions no longer in the spec. Tenants of
// the removed region move as its pods terminate (terminating pods are not placement candidates).
func (r *RealtimeClusterReconciler) pruneRegions(ctx context.Context, c *realtimev1.RealtimeCluster) error {
	stale := func(obj metav1.Object) bool {
		if !metav1.IsControlledBy(obj, c) {
			return false
		}
		_, ok := c.Region(obj.GetLabels()[realtimev1.RegionLabel])
		return !ok
	}
	sel := client.MatchingLabels{realtimev1.ClusterLabel: c.Name}
	var sets appsv1.StatefulSetList
	if err := r.List(ctx, &sets, client.InNamespace(c.Namespace), sel); err != nil {
		return fmt.Errorf("list statefulsets: %w", err)
	}
	var pdbs policyv1.PodDisruptionBudgetList
	if err := r.List(ctx, &pdbs, client.InNamespace(c.Namespace), sel); err != nil {
		return fmt.Errorf("list pdbs: %w", err)
	}
	type victim struct {
		kind string
		obj  client.Object
	}
	var victims []victim
	for i := range sets.Items {
		if stale(&sets.Items[i]) {
			victims = append(victims, victim{"StatefulSet", &sets.Items[i]})
		}
	}
	for i := range pdbs.Items {
		if stale(&pdbs.Items[i]) {
			victims = append(victims, victim{"PodDisruptionBudget", &pdbs.Items[i]})
		}
	}
	for _, v := range victims {
		if err := r.Delete(ctx, v.obj); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete %s %s: %w", v.kind, v.obj.GetName(), err)
		}
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, "Deleted", "Prune",
			"Deleted %s %s of a removed region", v.kind, v.obj.GetName())
	}
	return nil
}
