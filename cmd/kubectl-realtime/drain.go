package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// drain marks the pod draining (the operator's hook for planned moves: placement then treats the
// pod as not ready and hands its tenants to other pods; the pod keeps serving clients), then
// follows each of its tenants' handoff as move does: assigned elsewhere, Lease held by the new
// owner. It never touches Leases: the operator and the nodes do the moves.
func (e *env) drain(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: drain takes one pod name", errUsage)
	}
	var pod corev1.Pod
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: args[0]}, &pod); err != nil {
		return fmt.Errorf("pod %s/%s: %w", e.namespace, args[0], err)
	}
	if pod.Labels[realtimev1.ClusterLabel] == "" {
		return fmt.Errorf("pod %s is not a realtime node pod (no %s label)", pod.Name, realtimev1.ClusterLabel)
	}
	// The tenants to follow are those the pod owns when the drain starts.
	owned, err := e.ownedBy(ctx, pod.Name)
	if err != nil {
		return err
	}
	w := e.progress()
	if pod.Annotations[realtimev1.DrainingAnnotation] != "true" {
		patch := client.MergeFrom(pod.DeepCopy())
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[realtimev1.DrainingAnnotation] = "true"
		if err := e.c.Patch(ctx, &pod, patch); err != nil {
			return fmt.Errorf("annotate pod %s draining: %w", pod.Name, err)
		}
		fmt.Fprintf(w, "pod/%s annotated %s=true\n", pod.Name, realtimev1.DrainingAnnotation)
	}
	hs := make([]*handoff, 0, len(owned))
	for _, name := range owned {
		hs = append(hs, &handoff{Tenant: name, From: pod.Name})
	}
	if len(hs) > 0 {
		fmt.Fprintf(w, "waiting for %d tenant(s) to move off %s: %s\n", len(hs), pod.Name, strings.Join(owned, ","))
	}
	if err := e.waitHandoffs(ctx, hs); err != nil {
		return err
	}
	if e.output != "table" {
		return e.encode(map[string]any{"pod": pod.Name, "drained": true, "handoffs": hs})
	}
	fmt.Fprintf(e.out, "pod/%s drained: it owns no tenant's WAL work (remove the annotation to let it own tenants again)\n", pod.Name)
	return nil
}

func (e *env) ownedBy(ctx context.Context, pod string) ([]string, error) {
	var tenants realtimev1.TenantList
	if err := e.c.List(ctx, &tenants, client.InNamespace(e.namespace)); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	var out []string
	for _, t := range tenants.Items {
		if rep := t.Status.Replication; rep != nil && rep.Node == pod {
			out = append(out, t.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// move asks the operator for a planned handoff of one tenant to a chosen pod: it sets the
// Tenant's move-to annotation, which the operator honours while that pod can own the tenant
// (Assigned reason MoveRequested, lastMove reason Requested, a Moved event), then follows the
// handoff until the pod holds the Lease. The annotation stays as a pin; removing it
// (`kubectl annotate tenant NAME realtime.realtimeops.io/move-to-`) returns the tenant to the
// usual placement.
func (e *env) move(ctx context.Context, args []string, to string) error {
	if len(args) != 1 || to == "" {
		return fmt.Errorf("%w: move takes one tenant name and --to POD", errUsage)
	}
	var tn realtimev1.Tenant
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: args[0]}, &tn); err != nil {
		return fmt.Errorf("tenant %s/%s: %w", e.namespace, args[0], err)
	}
	if !tn.NeedsOwner() {
		return fmt.Errorf("tenant %s has no WAL work to move (no database, or suspended)", tn.Name)
	}
	var pod corev1.Pod
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: to}, &pod); err != nil {
		return fmt.Errorf("pod %s/%s: %w", e.namespace, to, err)
	}
	if c := pod.Labels[realtimev1.ClusterLabel]; c != tn.Spec.ClusterRef.Name {
		return fmt.Errorf("pod %s is not a node pod of RealtimeCluster %q (its %s label is %q)", to, tn.Spec.ClusterRef.Name, realtimev1.ClusterLabel, c)
	}
	from := ""
	if rep := tn.Status.Replication; rep != nil {
		from = rep.Node
	}
	w := e.progress()
	if tn.Annotations[realtimev1.MoveToAnnotation] != to {
		patch := client.MergeFrom(tn.DeepCopy())
		if tn.Annotations == nil {
			tn.Annotations = map[string]string{}
		}
		tn.Annotations[realtimev1.MoveToAnnotation] = to
		if err := e.c.Patch(ctx, &tn, patch); err != nil {
			return fmt.Errorf("annotate tenant %s: %w", tn.Name, err)
		}
		fmt.Fprintf(w, "tenant/%s annotated %s=%s\n", tn.Name, realtimev1.MoveToAnnotation, to)
	}
	h := &handoff{Tenant: tn.Name, From: from, To: to}
	if err := e.waitHandoffs(ctx, []*handoff{h}); err != nil {
		return err
	}
	if e.output != "table" {
		return e.encode(h)
	}
	fmt.Fprintf(e.out, "tenant/%s moved to %s (pinned: remove annotation %s to return it to the usual placement)\n", tn.Name, to, realtimev1.MoveToAnnotation)
	return nil
}
