package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// drain marks the pod draining (the operator's hook for planned moves: placement then treats the
// pod as not ready and hands its tenants to other pods; the pod keeps serving clients), then
// waits until no Tenant names it as owner. It never touches Leases: the operator does the moves.
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
	if pod.Annotations[realtimev1.DrainingAnnotation] != "true" {
		patch := client.MergeFrom(pod.DeepCopy())
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[realtimev1.DrainingAnnotation] = "true"
		if err := e.c.Patch(ctx, &pod, patch); err != nil {
			return fmt.Errorf("annotate pod %s draining: %w", pod.Name, err)
		}
		fmt.Fprintf(e.out, "pod/%s annotated %s=true\n", pod.Name, realtimev1.DrainingAnnotation)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	last := ""
	for {
		owned, err := e.ownedBy(ctx, pod.Name)
		if err != nil {
			return err
		}
		if len(owned) == 0 {
			fmt.Fprintf(e.out, "pod/%s drained: it owns no tenant's WAL work (remove the annotation to let it own tenants again)\n", pod.Name)
			return nil
		}
		if line := strings.Join(owned, ","); line != last {
			fmt.Fprintf(e.out, "waiting for %d tenant(s) to move off %s: %s\n", len(owned), pod.Name, line)
			last = line
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s: %s still owns %s", e.timeout, pod.Name, last)
			}
			return ctx.Err()
		case <-time.After(e.poll):
		}
	}
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

// move is not available: placement is a pure function of the pods, and the operator has no API
// yet to pin one tenant to a chosen pod as a planned handoff. Editing the tenant's Lease or
// status by hand would race the operator, so the plugin refuses instead.
func (e *env) move(args []string, to string) error {
	if len(args) != 1 || to == "" {
		return fmt.Errorf("%w: move takes one tenant name and --to POD", errUsage)
	}
	return fmt.Errorf("move %s --to %s: the operator has no planned-move API for one tenant yet; "+
		"`kubectl realtime drain POD` moves every tenant off a pod through the operator", args[0], to)
}
