package e2e

// Fixtures and cluster accessors of the placement test: builders for the objects it applies,
// readers of their state, and waits on it.

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

func secret(name, key, value string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		StringData: map[string]string{key: value},
	}
}

func tenant(name, dbRegion string, dbPort int) *realtimev1.Tenant {
	return &realtimev1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: realtimev1.TenantSpec{
			ClusterRef: realtimev1.LocalObjectReference{Name: clusterName},
			JWT:        realtimev1.JWTSpec{SecretRef: &realtimev1.SecretKeySelector{Name: "jwt", Key: "secret"}},
			Database: &realtimev1.DatabaseSpec{
				Host:              "127.0.0.1",
				Port:              int32(dbPort),
				PasswordSecretRef: realtimev1.SecretKeySelector{Name: "db", Key: "password"},
				SSLMode:           "disable",
				Region:            dbRegion,
			},
		},
	}
}

// ---------------------------------------------------------------------------- reads

func (c *simCluster) cluster(t *testing.T) *realtimev1.RealtimeCluster {
	t.Helper()
	rc := &realtimev1.RealtimeCluster{}
	if err := c.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: clusterName}, rc); err != nil {
		t.Fatalf("get cluster: %v", err)
	}
	return rc
}

func (c *simCluster) tenant(t *testing.T, name string) *realtimev1.Tenant {
	t.Helper()
	tn := &realtimev1.Tenant{}
	if err := c.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, tn); err != nil {
		t.Fatalf("get tenant %s: %v", name, err)
	}
	if tn.Status.Replication == nil {
		tn.Status.Replication = &realtimev1.ReplicationStatus{}
	}
	return tn
}

func (c *simCluster) pod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{}
	if err := c.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, p); err != nil {
		t.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

// nodePods lists the cluster's node pods, sorted by name.
func (c *simCluster) nodePods(t *testing.T) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	if err := c.client.List(context.Background(), &pods, client.InNamespace(ns),
		client.MatchingLabels{realtimev1.ClusterLabel: clusterName}); err != nil {
		t.Fatalf("list pods: %v", err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	return pods.Items
}

// otherPod is the one other pod of a two-pod region.
func (c *simCluster) otherPod(t *testing.T, region, not string) string {
	t.Helper()
	var names []string
	for _, p := range c.nodePods(t) {
		if p.Labels[realtimev1.RegionLabel] == region && p.Name != not {
			names = append(names, p.Name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("region %s: pods other than %s: %v, want exactly one", region, not, names)
	}
	return names[0]
}

func (c *simCluster) nodeRegions() map[string]string {
	var nodes corev1.NodeList
	if err := c.client.List(context.Background(), &nodes); err != nil {
		c.t.Fatalf("list nodes: %v", err)
	}
	m := map[string]string{}
	for _, n := range nodes.Items {
		m[n.Name] = n.Labels[regionLabel]
	}
	return m
}

func (c *simCluster) statefulSetName(t *testing.T, region string) string {
	t.Helper()
	var list appsv1.StatefulSetList
	if err := c.client.List(context.Background(), &list, client.InNamespace(ns),
		client.MatchingLabels{realtimev1.ClusterLabel: clusterName, realtimev1.RegionLabel: region}); err != nil || len(list.Items) != 1 {
		t.Fatalf("statefulset of region %s: %v (%d found)", region, err, len(list.Items))
	}
	return list.Items[0].Name
}

func (c *simCluster) lastMoveDuration(t *testing.T, name string) string {
	lm := c.tenant(t, name).Status.Replication.LastMove
	if lm == nil || lm.Duration == nil {
		return "unset"
	}
	return lm.Duration.Duration.String()
}

// ---------------------------------------------------------------------------- waits and actions

// waitClusterReady waits for the RealtimeCluster's Ready condition at its current generation.
// Each extra check must pass as well.
func (c *simCluster) waitClusterReady(what string, timeout time.Duration, extra ...func(*realtimev1.RealtimeCluster) error) {
	c.t.Helper()
	c.eventually(timeout, "RealtimeCluster Ready ("+what+")", func(ctx context.Context) error {
		rc := &realtimev1.RealtimeCluster{}
		if err := c.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: clusterName}, rc); err != nil {
			return err
		}
		cond := meta.FindStatusCondition(rc.Status.Conditions, string(realtimev1.ClusterReady))
		if cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != rc.Generation ||
			rc.Status.ReadyReplicas != rc.DesiredReplicas() {
			return fmt.Errorf("phase %q nodes %q conditions %+v", rc.Status.Phase, rc.Status.Nodes, rc.Status.Conditions)
		}
		for _, check := range extra {
			if err := check(rc); err != nil {
				return err
			}
		}
		return nil
	})
}

// waitAssigned waits until the tenant is Assigned to a Ready pod of region and returns the pod.
func (c *simCluster) waitAssigned(t *testing.T, name, region string) string {
	t.Helper()
	var owner string
	c.eventually(30*time.Second, "tenant "+name+" assigned in "+region, func(ctx context.Context) error {
		tn := &realtimev1.Tenant{}
		if err := c.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, tn); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(tn.Status.Conditions, string(realtimev1.TenantAssigned)) || tn.Status.Replication == nil {
			return fmt.Errorf("not assigned: %+v", tn.Status.Conditions)
		}
		owner = tn.Status.Replication.Node
		p := &corev1.Pod{}
		if err := c.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: owner}, p); err != nil {
			return fmt.Errorf("owner %s: %w", owner, err)
		}
		if p.Labels[realtimev1.RegionLabel] != region || tn.Status.Replication.Region != region {
			return fmt.Errorf("owner %s in region %q (status %q), want %s", owner, p.Labels[realtimev1.RegionLabel], tn.Status.Replication.Region, region)
		}
		if !podReady(p) {
			return fmt.Errorf("owner %s not Ready", owner)
		}
		return nil
	})
	return owner
}

// measureMove runs action and waits until the tenant's owner is no longer from; it returns the
// new owner and the time from the start of action to the first read showing the move.
func (c *simCluster) measureMove(t *testing.T, name, from string, action func() error) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := action(); err != nil {
		t.Fatalf("action: %v", err)
	}
	var to string
	var delay time.Duration
	c.eventually(30*time.Second, "tenant "+name+" moves off "+from, func(ctx context.Context) error {
		tn := &realtimev1.Tenant{}
		if err := c.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, tn); err != nil {
			return err
		}
		if tn.Status.Replication == nil || tn.Status.Replication.Node == from || tn.Status.Replication.Node == "" ||
			!meta.IsStatusConditionTrue(tn.Status.Conditions, string(realtimev1.TenantAssigned)) {
			return fmt.Errorf("still %+v", tn.Status.Replication)
		}
		to, delay = tn.Status.Replication.Node, time.Since(start)
		return nil
	})
	return to, delay
}

func (c *simCluster) checkLastMove(t *testing.T, name, from, to, reason string) {
	t.Helper()
	lm := c.tenant(t, name).Status.Replication.LastMove
	if lm == nil || lm.From != from || lm.To != to || lm.Reason != reason {
		t.Errorf("%s lastMove %+v, want %s -> %s (%s)", name, lm, from, to, reason)
	}
}

func (c *simCluster) setUnschedulable(node string, on bool) error {
	n := &corev1.Node{}
	ctx := context.Background()
	if err := c.client.Get(ctx, types.NamespacedName{Name: node}, n); err != nil {
		return err
	}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"unschedulable":`+strconv.FormatBool(on)+`}}`))
	return c.client.Patch(ctx, n, patch)
}

func (c *simCluster) setRegionReplicas(t *testing.T, region string, n int32) {
	t.Helper()
	rc := c.cluster(t)
	base := rc.DeepCopy()
	for i := range rc.Spec.Regions {
		if rc.Spec.Regions[i].Name == region {
			rc.Spec.Regions[i].Replicas = n
		}
	}
	if err := c.client.Patch(context.Background(), rc, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		t.Fatalf("scale %s to %d: %v", region, n, err)
	}
}

// ---------------------------------------------------------------------------- small predicates

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

func podScheduled(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podNames(pods []corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	return names
}

func containsFinalizer(o metav1.Object, f string) bool {
	for _, x := range o.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}
