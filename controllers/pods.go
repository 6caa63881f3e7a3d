package controllers

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// podReady reports whether Kubernetes considers the pod ready (its Ready condition is True) and
// it is not terminating. This is what cluster status counts.
func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ineligibility says why a pod cannot own WAL work, and since when ("" = eligible).
type ineligibility struct {
	Reason string
	Since  time.Time
	// Message, when set, explains the move for humans (MoveRecord.Message and the event).
	Message string
}

// placementIneligibility applies the placement rules to one pod: terminating, draining, on a
// cordoned node, not ready, or without region are not candidates. node may be nil (unknown).
func placementIneligibility(p *corev1.Pod, node *corev1.Node) ineligibility {
	if dt := p.DeletionTimestamp; dt != nil {
		since := dt.Time
		if g := p.DeletionGracePeriodSeconds; g != nil {
			since = since.Add(-time.Duration(*g) * time.Second)
		}
		return ineligibility{Reason: realtimev1.MoveOwnerDeleted, Since: since}
	}
	if p.Annotations[realtimev1.DrainingAnnotation] == "true" {
		return ineligibility{Reason: realtimev1.MoveOwnerDraining}
	}
	if node != nil && node.Spec.Unschedulable {
		return ineligibility{Reason: realtimev1.MoveNodeUnschedulable}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			if c.Status == corev1.ConditionTrue {
				if p.Labels[realtimev1.RegionLabel] == "" {
					return ineligibility{Reason: "NoRegion"}
				}
				return ineligibility{}
			}
			return ineligibility{Reason: realtimev1.MoveOwnerNotReady, Since: c.LastTransitionTime.Time}
		}
	}
	return ineligibility{Reason: realtimev1.MoveOwnerNotReady}
}
