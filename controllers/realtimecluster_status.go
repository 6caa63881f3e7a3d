package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// updateStatus recomputes the status from the node pods and StatefulSets and writes it when it
// changed, with an event when the cluster becomes ready or stops being ready. failure, when set,
// is the reconcile step that failed: Ready is False with its reason and message.
func (r *RealtimeClusterReconciler) updateStatus(ctx context.Context, c *realtimev1.RealtimeCluster, failure error) error {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(c.Namespace), client.MatchingLabels{realtimev1.ClusterLabel: c.Name}); err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	sets := map[string]*appsv1.StatefulSet{}
	for _, region := range c.Spec.Regions {
		sts := &appsv1.StatefulSet{}
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.StatefulSetName(region.Name)}, sts)
		if err == nil {
			sets[region.Name] = sts
		} else if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("get statefulset: %w", err)
		}
	}
	next := computeClusterStatus(c, pods.Items, sets)
	metricClusterPods.WithLabelValues(c.Namespace, c.Name, "ready").Set(float64(next.ReadyReplicas))
	metricClusterPods.WithLabelValues(c.Namespace, c.Name, "desired").Set(float64(next.Replicas))
	if failure != nil {
		reason, _ := failureReason(failure)
		meta.SetStatusCondition(&next.Conditions, metav1.Condition{
			Type: string(realtimev1.ClusterReady), Status: metav1.ConditionFalse, Reason: string(reason),
			Message: failure.Error(), ObservedGeneration: c.Generation,
		})
		next.Phase = "Failed"
	}
	if equality.Semantic.DeepEqual(next, c.Status) {
		return nil
	}
	wasReady := meta.IsStatusConditionTrue(c.Status.Conditions, string(realtimev1.ClusterReady))
	isReady := meta.IsStatusConditionTrue(next.Conditions, string(realtimev1.ClusterReady))
	base := c.DeepCopy()
	c.Status = next
	if err := r.Status().Patch(ctx, c, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	switch {
	case isReady && !wasReady:
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, string(realtimev1.ReasonAllNodesReady), "Status", "All %s node pods are ready", next.Nodes)
	case !isReady && wasReady && failure == nil:
		r.Recorder.Eventf(c, nil, corev1.EventTypeWarning, string(realtimev1.ReasonNodesNotReady), "Status", "Node pods ready: %s", next.Nodes)
	}
	return nil
}

// computeClusterStatus is the pure part of status: counts, ready nodes and conditions. It keeps
// the previous conditions' transition times when their status does not change.
func computeClusterStatus(c *realtimev1.RealtimeCluster, pods []corev1.Pod, sets map[string]*appsv1.StatefulSet) realtimev1.RealtimeClusterStatus {
	st := realtimev1.RealtimeClusterStatus{
		ObservedGeneration: c.Generation,
		Conditions:         append([]metav1.Condition(nil), c.Status.Conditions...),
		Replicas:           c.DesiredReplicas(),
		RegionNames:        c.RegionNames(),
		ClusterSecretName:  c.ClusterSecret().Name,
		// Written by the clients counter (realtimecluster_clients.go), kept here.
		ConnectedClients: c.Status.ConnectedClients, ClientsObservedPods: c.Status.ClientsObservedPods,
		ClientsObservedAt: c.Status.ClientsObservedAt,
	}
	ready := map[string]int32{}
	for i := range pods {
		p := &pods[i]
		region := p.Labels[realtimev1.RegionLabel]
		if _, ok := c.Region(region); !ok || !podReady(p) {
			continue
		}
		ready[region]++
		st.ReadyNodes = append(st.ReadyNodes, realtimev1.NodeStatus{Name: p.Name, Region: region, PodIP: p.Status.PodIP})
	}
	sort.Slice(st.ReadyNodes, func(i, j int) bool {
		a, b := st.ReadyNodes[i], st.ReadyNodes[j]
		return a.Region < b.Region || (a.Region == b.Region && a.Name < b.Name)
	})
	var rolling, short, empty []string
	for _, region := range c.Spec.Regions {
		n := ready[region.Name]
		st.ReadyReplicas += n
		st.Regions = append(st.Regions, realtimev1.RegionStatus{
			Name: region.Name, StatefulSet: c.StatefulSetName(region.Name), Desired: region.Replicas, Ready: n,
		})
		switch {
		case !rolledOut(sets[region.Name], region.Replicas):
			rolling = append(rolling, region.Name)
		case n == 0:
			empty = append(empty, region.Name)
		case n < region.Replicas:
			short = append(short, region.Name)
		}
	}
	st.Nodes = realtimev1.NodesSummary(st.ReadyReplicas, st.Replicas)
	setClusterConditions(&st, c.Generation, rolling, short, empty)
	return st
}

// rolledOut reports whether the StatefulSet controller has finished applying its spec.
func rolledOut(sts *appsv1.StatefulSet, desired int32) bool {
	if sts == nil {
		return false
	}
	s := sts.Status
	return s.ObservedGeneration >= sts.Generation && s.UpdatedReplicas >= desired &&
		(s.UpdateRevision == "" || s.CurrentRevision == s.UpdateRevision)
}

func setClusterConditions(st *realtimev1.RealtimeClusterStatus, gen int64, rolling, short, empty []string) {
	set := func(t realtimev1.ConditionType, ok bool, reason realtimev1.ConditionReason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: string(t), Status: status, Reason: string(reason), Message: msg, ObservedGeneration: gen,
		})
	}
	allReady := st.ReadyReplicas == st.Replicas
	for _, r := range st.Regions {
		allReady = allReady && r.Ready >= r.Desired
	}
	if allReady {
		set(realtimev1.ClusterReady, true, realtimev1.ReasonAllNodesReady, "all "+st.Nodes+" node pods are ready")
	} else {
		set(realtimev1.ClusterReady, false, realtimev1.ReasonNodesNotReady, st.Nodes+" node pods are ready")
	}
	if len(rolling) > 0 {
		set(realtimev1.ClusterProgressing, true, realtimev1.ReasonRollingOut, "rolling out regions: "+strings.Join(rolling, ", "))
	} else {
		set(realtimev1.ClusterProgressing, false, realtimev1.ReasonRolledOut, "every region runs its current spec")
	}
	switch {
	case len(empty) > 0:
		set(realtimev1.ClusterDegraded, true, realtimev1.ReasonRegionUnavailable, "no ready node pod in regions: "+strings.Join(empty, ", "))
	case len(short) > 0:
		set(realtimev1.ClusterDegraded, true, realtimev1.ReasonNodesUnavailable, "fewer ready node pods than desired in regions: "+strings.Join(short, ", "))
	default:
		set(realtimev1.ClusterDegraded, false, realtimev1.ReasonAsExpected, "no settled region is short of ready pods")
	}
	switch {
	case allReady:
		st.Phase = "Ready"
	case len(rolling) > 0:
		st.Phase = "Progressing"
	default:
		st.Phase = "Degraded"
	}
}
