package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/testutil"
)

const (
	ns          = "e2e"
	clusterName = "rt"
	// tenantEU's database is in eu-west itself (SameRegion); tenantUS's in us-east-1, which the
	// cluster's regionMapping maps to us-east (MappedRegion).
	tenantEU = "acme-eu"
	tenantUS = "globex-us"
	// A move must follow its cause promptly: it is driven by watch events, never by a poll.
	maxMoveDelay = 5 * time.Second
)

// TestPlacementAndFailover runs the operator against a simulated three-region cluster in which
// the real scheduler places the StatefulSets' pods on kwok nodes and the real StatefulSet
// controller recreates deleted pods. No realtime-node process runs (kwok marks pods Ready and no
// node holds a tenant Lease), so what is proven is the operator's side: workload shape, status,
// placement and the event-driven moves; lease-expiry fencing is covered by the envtest suite.
func TestPlacementAndFailover(t *testing.T) {
	sim := startSimCluster(t)
	ctx := context.Background()

	if _, err := envtest.InstallCRDs(sim.cfg, envtest.CRDInstallOptions{
		Paths: []string{"../../config/crd/bases"}, ErrorIfPathMissing: true,
	}); err != nil {
		t.Fatalf("install CRDs: %v", err)
	}
	sim.startOperator()

	closedPort := testutil.MustFreePorts(t, "", 1)[0] // the finalizer's slot drop gets "connection refused" at once
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		secret("cluster-secret", "secret", "e2e-inter-node-secret"),
		secret("jwt", "secret", "e2e-jwt-secret-with-at-least-32-characters"),
		secret("db", "password", "e2e-password"),
		&realtimev1.RealtimeCluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: clusterName},
			Spec: realtimev1.RealtimeClusterSpec{
				Image: "realtime-node:e2e-never-pulled", // kwok pulls nothing
				Regions: []realtimev1.RegionSpec{
					{Name: "eu-west", Replicas: 2},
					{Name: "us-east", Replicas: 2},
				},
				RegionMapping:    map[string]string{"eu-central-1": "eu-west", "us-east-1": "us-east"},
				ClusterSecretRef: &realtimev1.SecretKeySelector{Name: "cluster-secret", Key: "secret"},
			},
		},
		tenant(tenantEU, "eu-west", closedPort),
		tenant(tenantUS, "us-east-1", closedPort),
	}
	tApply := time.Now()
	for _, o := range objs {
		if err := sim.client.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}

	// --- the cluster comes up: pods scheduled by the real scheduler, status Ready.
	sim.waitClusterReady("initial rollout", 120*time.Second)
	t.Logf("cluster Ready %s after apply", time.Since(tApply).Round(time.Millisecond))
	nodeRegion := sim.nodeRegions()
	t.Run("pods pinned to their region on distinct hosts", func(t *testing.T) {
		pods := sim.nodePods(t)
		if len(pods) != 4 {
			t.Fatalf("%d node pods, want 4: %v", len(pods), podNames(pods))
		}
		hosts := map[string]string{}
		zones := map[string]map[string]bool{}
		for _, p := range pods {
			region := p.Labels[realtimev1.RegionLabel]
			if p.Spec.NodeName == "" {
				t.Errorf("pod %s not scheduled", p.Name)
				continue
			}
			if got := nodeRegion[p.Spec.NodeName]; got != region {
				t.Errorf("pod %s of region %s runs on %s in region %q", p.Name, region, p.Spec.NodeName, got)
			}
			if other, dup := hosts[p.Spec.NodeName]; dup {
				t.Errorf("pods %s and %s share host %s (anti-affinity)", other, p.Name, p.Spec.NodeName)
			}
			hosts[p.Spec.NodeName] = p.Name
			if zones[region] == nil {
				zones[region] = map[string]bool{}
			}
			zones[region][p.Spec.NodeName] = true
			if !podScheduled(&p) {
				t.Errorf("pod %s has no PodScheduled=True condition", p.Name)
			}
			t.Logf("pod %-16s region %-8s node %-16s ip %s", p.Name, region, p.Spec.NodeName, p.Status.PodIP)
		}
		for region, hs := range zones {
			if len(hs) != 2 {
				t.Errorf("region %s: pods on %d hosts, want 2", region, len(hs))
			}
		}
	})

	t.Run("cluster status", func(t *testing.T) {
		c := sim.cluster(t)
		if c.Status.Phase != "Ready" || c.Status.ReadyReplicas != 4 || c.Status.Replicas != 4 {
			t.Errorf("status phase=%q ready=%d/%d, want Ready 4/4", c.Status.Phase, c.Status.ReadyReplicas, c.Status.Replicas)
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, string(realtimev1.ClusterReady))
		if cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != c.Generation {
			t.Errorf("Ready condition %+v, want True at generation %d", cond, c.Generation)
		}
		perRegion := map[string]int{}
		for _, n := range c.Status.ReadyNodes {
			perRegion[n.Region]++
			if n.PodIP == "" {
				t.Errorf("readyNode %s has no podIP", n.Name)
			}
		}
		if perRegion["eu-west"] != 2 || perRegion["us-east"] != 2 || len(c.Status.ReadyNodes) != 4 {
			t.Errorf("readyNodes %+v, want 2 in eu-west and 2 in us-east", c.Status.ReadyNodes)
		}
		for _, r := range c.Status.Regions {
			if r.Ready != 2 || r.Desired != 2 {
				t.Errorf("region %s: ready %d desired %d, want 2/2", r.Name, r.Ready, r.Desired)
			}
		}
	})

	t.Run("tenants assigned in their database's region", func(t *testing.T) {
		for _, tc := range []struct{ tenant, region, reason string }{
			{tenantEU, "eu-west", string(realtimev1.ReasonSameRegion)},
			{tenantUS, "us-east", string(realtimev1.ReasonMappedRegion)},
		} {
			owner := sim.waitAssigned(t, tc.tenant, tc.region)
			tn := sim.tenant(t, tc.tenant)
			if tn.Status.Replication.Reason != tc.reason {
				t.Errorf("%s: placement reason %q, want %q", tc.tenant, tn.Status.Replication.Reason, tc.reason)
			}
			// The Tenants were applied with the cluster: one may first have gone to whichever pod
			// was ready first (a fallback) and come home when its region's pods were ready.
			lm := tn.Status.Replication.LastMove
			if lm == nil || lm.To != owner || (lm.Reason != realtimev1.MoveInitial && lm.Reason != realtimev1.MoveHomeRegionAvailable) {
				t.Errorf("%s: lastMove %+v, want Initial or HomeRegionAvailable to %s", tc.tenant, lm, owner)
			} else if lm.Reason == realtimev1.MoveHomeRegionAvailable {
				t.Logf("%s: came home from %s when %s became ready", tc.tenant, lm.From, tc.region)
			}
			// Ready also needs the owner to hold the Lease and stream from a reachable database;
			// no node process or database runs here, so Ready is False for exactly that reason.
			if r := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantReady)); r == nil ||
				r.Status != metav1.ConditionFalse || r.Reason != string(realtimev1.ReasonLeaseNotHeld) {
				t.Errorf("%s: Ready %+v, want False/%s", tc.tenant, r, realtimev1.ReasonLeaseNotHeld)
			}
			if !containsFinalizer(tn, realtimev1.TenantFinalizer) {
				t.Errorf("%s: no finalizer %s", tc.tenant, realtimev1.TenantFinalizer)
			}
			t.Logf("%s -> %s (%s)", tc.tenant, owner, tc.reason)
		}
	})
	if t.Failed() {
		return // the failover steps build on the initial placement
	}

	// --- failover 1: the owner pod is deleted; the StatefulSet controller recreates it.
	t.Run("owner pod deleted", func(t *testing.T) {
		usOwner := sim.tenant(t, tenantUS).Status.Replication.Node
		owner := sim.tenant(t, tenantEU).Status.Replication.Node
		old := sim.pod(t, owner)
		other := sim.otherPod(t, "eu-west", owner)
		to, delay := sim.measureMove(t, tenantEU, owner, func() error {
			return sim.client.Delete(ctx, old)
		})
		if to != other {
			t.Errorf("moved to %s, want the other eu-west pod %s", to, other)
		}
		sim.checkLastMove(t, tenantEU, owner, to, realtimev1.MoveOwnerDeleted)
		t.Logf("FAILOVER owner deleted: %s -> %s observed %s after the delete call (lastMove.duration %s)",
			owner, to, delay.Round(time.Millisecond), sim.lastMoveDuration(t, tenantEU))
		if delay > maxMoveDelay {
			t.Errorf("move took %s, want < %s", delay, maxMoveDelay)
		}

		// The StatefulSet controller recreates the pod (same name, new UID) on the region's free
		// host, and the cluster is Ready again.
		tRecreate := time.Now()
		sim.eventually(60*time.Second, "pod "+owner+" recreated and Ready", func(ctx context.Context) error {
			p := &corev1.Pod{}
			if err := sim.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: owner}, p); err != nil {
				return err
			}
			if p.UID == old.UID {
				return fmt.Errorf("still the old pod (deletionTimestamp %v)", p.DeletionTimestamp)
			}
			if !podReady(p) {
				return fmt.Errorf("new pod not Ready (phase %s, node %q)", p.Status.Phase, p.Spec.NodeName)
			}
			if nodeRegion[p.Spec.NodeName] != "eu-west" {
				return fmt.Errorf("new pod on %s, not in eu-west", p.Spec.NodeName)
			}
			return nil
		})
		// The next steps need the operator to see the new pod Ready, not just the apiserver.
		sim.eventually(30*time.Second, "operator's cache sees the new "+owner+" Ready", func(ctx context.Context) error {
			p := &corev1.Pod{}
			if err := sim.opClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: owner}, p); err != nil {
				return err
			}
			if p.UID == old.UID || !podReady(p) {
				return fmt.Errorf("cached pod uid %s ready %v", p.UID, podReady(p))
			}
			return nil
		})
		newIP := sim.pod(t, owner).Status.PodIP // the StatefulSet's new pod, as kwok started it
		sim.waitClusterReady("after pod recreation", 60*time.Second, func(rc *realtimev1.RealtimeCluster) error {
			for _, n := range rc.Status.ReadyNodes {
				if n.Name == owner && n.PodIP == newIP {
					return nil
				}
			}
			return fmt.Errorf("readyNodes %+v lack %s at %s", rc.Status.ReadyNodes, owner, newIP)
		})
		np := sim.pod(t, owner)
		t.Logf("pod %s recreated (uid %s -> %s, on %s, ip %s) and cluster Ready %s after the move",
			owner, old.UID, np.UID, np.Spec.NodeName, np.Status.PodIP, time.Since(tRecreate).Round(time.Millisecond))
		// Placement is sticky: the recreated pod does not take the tenant back.
		if got := sim.tenant(t, tenantEU).Status.Replication.Node; got != to {
			t.Errorf("after recreation the owner is %s, want %s to keep it", got, to)
		}
		if got := sim.tenant(t, tenantUS).Status.Replication.Node; got != usOwner {
			t.Errorf("%s moved from %s to %s: an eu-west pod deletion must not touch it", tenantUS, usOwner, got)
		}
	})
	if t.Failed() {
		return
	}

	// --- failover 2: the owner's Kubernetes node is cordoned (a drain begins).
	var cordoned []string
	t.Run("owner node cordoned", func(t *testing.T) {
		owner := sim.tenant(t, tenantEU).Status.Replication.Node
		node := sim.pod(t, owner).Spec.NodeName
		other := sim.otherPod(t, "eu-west", owner)
		to, delay := sim.measureMove(t, tenantEU, owner, func() error { return sim.setUnschedulable(node, true) })
		cordoned = append(cordoned, node)
		if to != other {
			t.Errorf("moved to %s, want the other eu-west pod %s", to, other)
		}
		sim.checkLastMove(t, tenantEU, owner, to, realtimev1.MoveNodeUnschedulable)
		t.Logf("FAILOVER node cordoned: %s (on %s) -> %s observed %s after the cordon",
			owner, node, to, delay.Round(time.Millisecond))
		if delay > maxMoveDelay {
			t.Errorf("move took %s, want < %s", delay, maxMoveDelay)
		}
	})
	if t.Failed() {
		return
	}

	// --- the whole region is cordoned: the tenant leaves it, and comes home when it is back.
	t.Run("region cordoned and restored", func(t *testing.T) {
		owner := sim.tenant(t, tenantEU).Status.Replication.Node
		node := sim.pod(t, owner).Spec.NodeName
		to, delay := sim.measureMove(t, tenantEU, owner, func() error { return sim.setUnschedulable(node, true) })
		cordoned = append(cordoned, node)
		if p := sim.pod(t, to); p.Labels[realtimev1.RegionLabel] != "us-east" {
			t.Errorf("with eu-west cordoned the tenant went to %s in %q, want us-east (the only other region)", to, p.Labels[realtimev1.RegionLabel])
		}
		tn := sim.tenant(t, tenantEU)
		if r := tn.Status.Replication.Reason; r == string(realtimev1.ReasonSameRegion) {
			t.Errorf("placement reason %q outside the database's region", r)
		}
		t.Logf("region eu-west cordoned: %s -> %s (%s) observed %s", owner, to, tn.Status.Replication.Reason, delay.Round(time.Millisecond))

		home, delay := sim.measureMove(t, tenantEU, to, func() error {
			for _, n := range cordoned {
				if err := sim.setUnschedulable(n, false); err != nil {
					return err
				}
			}
			return nil
		})
		cordoned = nil
		if p := sim.pod(t, home); p.Labels[realtimev1.RegionLabel] != "eu-west" {
			t.Errorf("after uncordon the tenant is on %s, want an eu-west pod", home)
		}
		sim.checkLastMove(t, tenantEU, to, home, realtimev1.MoveHomeRegionAvailable)
		t.Logf("region eu-west restored: %s -> %s observed %s", to, home, delay.Round(time.Millisecond))
	})
	if t.Failed() {
		return
	}

	// --- a third eu-west replica has no host left: the region pin and host anti-affinity hold.
	t.Run("scale beyond the region's hosts stays pending", func(t *testing.T) {
		sim.setRegionReplicas(t, "eu-west", 3)
		pending := sim.statefulSetName(t, "eu-west") + "-2"
		sim.eventually(60*time.Second, "pod "+pending+" unschedulable", func(ctx context.Context) error {
			p := &corev1.Pod{}
			if err := sim.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: pending}, p); err != nil {
				return err
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					t.Logf("%s: %s", pending, c.Message)
					return nil
				}
			}
			return fmt.Errorf("phase %s node %q conditions %+v", p.Status.Phase, p.Spec.NodeName, p.Status.Conditions)
		})
		sim.eventually(30*time.Second, "cluster not Ready with a pending pod", func(ctx context.Context) error {
			rc := &realtimev1.RealtimeCluster{}
			if err := sim.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: clusterName}, rc); err != nil {
				return err
			}
			if meta.IsStatusConditionTrue(rc.Status.Conditions, string(realtimev1.ClusterReady)) || rc.Status.ReadyReplicas != 4 || rc.Status.Replicas != 5 {
				return fmt.Errorf("phase %q nodes %q", rc.Status.Phase, rc.Status.Nodes)
			}
			t.Logf("cluster phase %s, nodes %s", rc.Status.Phase, rc.Status.Nodes)
			return nil
		})
		sim.setRegionReplicas(t, "eu-west", 2)
		sim.waitClusterReady("after scale-down", 60*time.Second)
	})

	// --- deleting a tenant runs the finalizer: the slot drop fails (no database) and does not block.
	t.Run("tenant deletion is not blocked by an unreachable database", func(t *testing.T) {
		tn := sim.tenant(t, tenantUS)
		start := time.Now()
		if err := sim.client.Delete(ctx, tn); err != nil {
			t.Fatal(err)
		}
		sim.eventually(30*time.Second, "tenant "+tenantUS+" gone", func(ctx context.Context) error {
			err := sim.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: tenantUS}, &realtimev1.Tenant{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (err %v)", err)
		})
		t.Logf("tenant %s deleted in %s", tenantUS, time.Since(start).Round(time.Millisecond))
	})
}
