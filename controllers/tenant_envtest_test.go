package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// testTenant references Secrets "jwt" and "db"; without dbRegion it has no database.
func testTenant(ns, name, cluster, dbRegion string) *realtimev1.Tenant {
	t := &realtimev1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: realtimev1.TenantSpec{
			ClusterRef: realtimev1.LocalObjectReference{Name: cluster},
			JWT:        realtimev1.JWTSpec{SecretRef: &realtimev1.SecretKeySelector{Name: "jwt", Key: "secret"}},
		},
	}
	if dbRegion != "" {
		t.Spec.Database = &realtimev1.DatabaseSpec{
			Host: "127.0.0.1", Port: 1, Region: dbRegion, SSLMode: "disable",
			PasswordSecretRef: realtimev1.SecretKeySelector{Name: "db", Key: "password"},
		}
	}
	return t
}

func createSecrets(t *testing.T, ns string) {
	t.Helper()
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "jwt"},
		StringData: map[string]string{"secret": "a-jwt-secret-of-at-least-32-characters"}})
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		StringData: map[string]string{"password": "postgres"}})
}

// waitTenant polls the tenant until check passes and returns it.
func waitTenant(t *testing.T, tn *realtimev1.Tenant, check func(*realtimev1.Tenant) error) *realtimev1.Tenant {
	t.Helper()
	cur := &realtimev1.Tenant{}
	checkFor(t, 20*time.Second, func() error {
		if err := testClient.Get(context.Background(), client.ObjectKeyFromObject(tn), cur); err != nil {
			return err
		}
		return check(cur)
	})
	return cur
}

func assignedTo(region string, reason realtimev1.ConditionReason) func(*realtimev1.Tenant) error {
	return func(tn *realtimev1.Tenant) error {
		r := tn.Status.Replication
		cond := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantAssigned))
		if r == nil || r.Node == "" || r.Region != region || cond == nil || cond.Reason != string(reason) ||
			cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != tn.Generation {
			return fmt.Errorf("replication %+v assigned %+v, want region %s reason %s", r, cond, region, reason)
		}
		return nil
	}
}

func podsByName(pods ...*corev1.Pod) map[string]*corev1.Pod {
	m := map[string]*corev1.Pod{}
	for _, p := range pods {
		m[p.Name] = p
	}
	return m
}

// TestTenantPlacementAndFailover walks one tenant through the life of its owner: assignment in
// the database's region, owner deleted, owner not ready, region empty (fallback), region back.
func TestTenantPlacementAndFailover(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 3))
	pods := podsByName(
		createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-0", true),
		createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-1", true),
		createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-2", true),
		createNodePod(t, ns, "rt", "us-east", "rt-us-east-0", true),
		createNodePod(t, ns, "rt", "us-east", "rt-us-east-1", true),
	)
	tn := testTenant(ns, "acme", "rt", "eu-west")
	mustCreate(t, tn)
	cur := waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if err := assignedTo("eu-west", realtimev1.ReasonSameRegion)(tn); err != nil {
			return err
		}
		// Assigned is not Ready: no node process runs here, so nobody holds the Lease or
		// streams (TestTenantHealthAgainstPostgres shows Ready with a real database and reader).
		if r := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantReady)); r == nil ||
			r.Status != metav1.ConditionFalse || r.Reason != string(realtimev1.ReasonLeaseNotHeld) {
			return fmt.Errorf("Ready %+v, want False/%s", r, realtimev1.ReasonLeaseNotHeld)
		}
		return nil
	})
	first := cur.Status.Replication.Node
	// Initial, or HomeRegionAvailable when the controller's cache saw a us-east pod ready before the
	// eu-west ones and the tenant first fell back there.
	if m := cur.Status.Replication.LastMove; m == nil || m.To != first ||
		m.Reason != realtimev1.MoveInitial && m.Reason != realtimev1.MoveHomeRegionAvailable {
		t.Fatalf("initial lastMove %+v", m)
	}

	// Deleting the owner pod moves the WAL work to another pod of the same region.
	start := time.Now()
	if err := testClient.Delete(ctx, pods[first]); err != nil {
		t.Fatal(err)
	}
	cur = waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if tn.Status.Replication.Node == first {
			return fmt.Errorf("still on deleted %s", first)
		}
		return assignedTo("eu-west", realtimev1.ReasonSameRegion)(tn)
	})
	t.Logf("reassignment after deleting owner pod %s: %s (apiserver delete -> status written by controller, observed by polling every 20ms)",
		first, time.Since(start).Round(time.Millisecond))
	second := cur.Status.Replication.Node
	if m := cur.Status.Replication.LastMove; m.From != first || m.To != second || m.Reason != realtimev1.MoveOwnerDeleted && m.Reason != realtimev1.MoveOwnerGone {
		t.Fatalf("lastMove after delete %+v", m)
	}

	// Un-readying the new owner moves it to the third pod of the region.
	setPodReady(t, pods[second], false)
	cur = waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if n := tn.Status.Replication.Node; n == second || n == first {
			return fmt.Errorf("still on %s", n)
		}
		return assignedTo("eu-west", realtimev1.ReasonSameRegion)(tn)
	})
	third := cur.Status.Replication.Node
	if m := cur.Status.Replication.LastMove; m.From != second || m.Reason != realtimev1.MoveOwnerNotReady || m.Duration == nil {
		t.Fatalf("lastMove after un-ready %+v", m)
	}

	// With no ready pod in the region, the tenant falls back to another region and says so.
	setPodReady(t, pods[third], false)
	cur = waitTenant(t, tn, assignedTo("us-east", realtimev1.ReasonAnyRegion))
	cond := meta.FindStatusCondition(cur.Status.Conditions, string(realtimev1.TenantAssigned))
	if !strings.Contains(cond.Message, "fallback") {
		t.Fatalf("Assigned message %q does not say fallback", cond.Message)
	}

	// When the home region has a ready pod again, the tenant moves back.
	setPodReady(t, pods[second], true)
	cur = waitTenant(t, tn, assignedTo("eu-west", realtimev1.ReasonSameRegion))
	if m := cur.Status.Replication.LastMove; m.Reason != realtimev1.MoveHomeRegionAvailable || cur.Status.Replication.Node != second {
		t.Fatalf("move home: node %s lastMove %+v", cur.Status.Replication.Node, m)
	}

	// No ready pod anywhere: Assigned turns False with NoReadyNode.
	for _, name := range []string{second, "rt-us-east-0", "rt-us-east-1"} {
		setPodReady(t, pods[name], false)
	}
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		c := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantAssigned))
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(realtimev1.ReasonNoReadyNode) {
			return fmt.Errorf("assigned %+v", c)
		}
		if meta.IsStatusConditionTrue(tn.Status.Conditions, string(realtimev1.TenantReady)) {
			return fmt.Errorf("Ready without an owner")
		}
		return nil
	})
}

func TestTenantMappedRegionDrainAndCordon(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-0", true)
	createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-1", true)
	createNodePod(t, ns, "rt", "us-east", "rt-us-east-0", true)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{GenerateName: "kube-node-"}}
	mustCreate(t, node)
	// A pod bound to a Kubernetes node (as the scheduler would), to cordon that node later.
	bound := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rt-us-east-1", Labels: map[string]string{
			realtimev1.ClusterLabel: "rt", realtimev1.RegionLabel: "us-east"}},
		Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "node", Image: "node:test"}}},
	}
	mustCreate(t, bound)
	setPodReady(t, bound, true)
	t.Cleanup(func() { _ = testClient.Delete(ctx, bound, client.GracePeriodSeconds(0)) })

	tn := testTenant(ns, "mapped", "rt", "eu-central-1")
	mustCreate(t, tn)
	cur := waitTenant(t, tn, assignedTo("eu-west", realtimev1.ReasonMappedRegion))

	// Planned move: the draining annotation makes the owner ineligible before it stops.
	owner := &corev1.Pod{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: cur.Status.Replication.Node}, owner); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(owner.DeepCopy())
	owner.Annotations = map[string]string{realtimev1.DrainingAnnotation: "true"}
	if err := testClient.Patch(ctx, owner, patch); err != nil {
		t.Fatal(err)
	}
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if m := tn.Status.Replication.LastMove; m == nil || m.Reason != realtimev1.MoveOwnerDraining || m.From != owner.Name {
			return fmt.Errorf("lastMove %+v", m)
		}
		return assignedTo("eu-west", realtimev1.ReasonMappedRegion)(tn)
	})

	// Cordoning the Kubernetes node of the owner moves the tenant (us-east tenant on the bound pod).
	us := testTenant(ns, "east", "rt", "us-east")
	mustCreate(t, us)
	usCur := waitTenant(t, us, assignedTo("us-east", realtimev1.ReasonSameRegion))
	if usCur.Status.Replication.Node != bound.Name {
		// Make the bound pod the owner: un-ready the other us-east pod.
		other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: usCur.Status.Replication.Node}}
		setPodReady(t, other, false)
		waitTenant(t, us, func(tn *realtimev1.Tenant) error {
			if tn.Status.Replication.Node != bound.Name {
				return fmt.Errorf("on %s", tn.Status.Replication.Node)
			}
			return nil
		})
		setPodReady(t, other, true)
		// Cordon only once the controllers' cache has the pod ready again (the cluster status is
		// built from the same cache): otherwise the tenant may first fall back to another region
		// and then move home, and the last move would not be the cordon.
		checkFor(t, 20*time.Second, func() error {
			rc := &realtimev1.RealtimeCluster{}
			if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rt"}, rc); err != nil {
				return err
			}
			for _, n := range rc.Status.ReadyNodes {
				if n.Name == other.Name {
					return nil
				}
			}
			return fmt.Errorf("%s not ready in cluster status yet", other.Name)
		})
	}
	nPatch := client.MergeFrom(node.DeepCopy())
	node.Spec.Unschedulable = true
	if err := testClient.Patch(ctx, node, nPatch); err != nil {
		t.Fatal(err)
	}
	waitTenant(t, us, func(tn *realtimev1.Tenant) error {
		if m := tn.Status.Replication.LastMove; m == nil || m.Reason != realtimev1.MoveNodeUnschedulable {
			return fmt.Errorf("lastMove %+v", m)
		}
		return assignedTo("us-east", realtimev1.ReasonSameRegion)(tn)
	})
}

// TestTenantLeaseExpiry: the owner holds a short Lease and stops renewing; the controller moves
// the tenant once the Lease expired plus failoverDelay, with no event other than its own timer.
func TestTenantLeaseExpiry(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-0", true)
	createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-1", true)
	tn := testTenant(ns, "leased", "rt", "eu-west")
	tn.Spec.FailoverDelay = &metav1.Duration{Duration: time.Second}
	mustCreate(t, tn)
	cur := waitTenant(t, tn, assignedTo("eu-west", realtimev1.ReasonSameRegion))
	owner := cur.Status.Replication.Node

	renewed := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-leased", Labels: nodeLeaseLabels("rt")},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: &owner, LeaseDurationSeconds: ptr(int32(2)), AcquireTime: &renewed, RenewTime: &renewed,
		},
	}
	mustCreate(t, lease)
	// Still the owner while the lease is valid (2 s) plus the failover delay (1 s).
	time.Sleep(1500 * time.Millisecond)
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(tn), cur); err != nil {
		t.Fatal(err)
	}
	if cur.Status.Replication.Node != owner {
		t.Fatalf("moved before the lease expired: %+v", cur.Status.Replication)
	}
	cur = waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		m := tn.Status.Replication.LastMove
		if m == nil || m.Reason != realtimev1.MoveLeaseExpired || m.From != owner {
			return fmt.Errorf("lastMove %+v", m)
		}
		return nil
	})
	seen := time.Since(renewed.Time)
	move := cur.Status.Replication.LastMove
	// At has second precision; Duration is measured from the lease expiry (renew + 2 s).
	movedAfter := 2*time.Second + move.Duration.Duration
	t.Logf("moved %s after the last renewal (lease 2s + failoverDelay 1s); observed by the test after %s",
		movedAfter.Round(time.Millisecond), seen.Round(time.Millisecond))
	if movedAfter < 3*time.Second {
		t.Fatalf("moved %s after renewal, before lease expiry + failoverDelay (3s)", movedAfter)
	}
}

func TestTenantSecretsResolved(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	tn := testTenant(ns, "nosecret", "rt", "") // Broadcast-only: no database
	mustCreate(t, tn)
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		c := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantSecretsResolved))
		r := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantReady))
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(realtimev1.ReasonSecretMissing) ||
			r == nil || r.Status != metav1.ConditionFalse {
			return fmt.Errorf("conditions %+v", tn.Status.Conditions)
		}
		return nil
	})
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "jwt"},
		StringData: map[string]string{"wrong": "x"}})
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		c := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantSecretsResolved))
		if c == nil || c.Reason != string(realtimev1.ReasonSecretKeyMissing) {
			return fmt.Errorf("conditions %+v", tn.Status.Conditions)
		}
		return nil
	})
	s := &corev1.Secret{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "jwt"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data["secret"] = []byte("now-there-is-a-secret-of-32-chars-or-more")
	if err := testClient.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		a := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantAssigned))
		if !meta.IsStatusConditionTrue(tn.Status.Conditions, string(realtimev1.TenantReady)) ||
			a == nil || a.Reason != string(realtimev1.ReasonNoDatabase) || tn.Status.ExternalID != "nosecret" {
			return fmt.Errorf("status %+v", tn.Status)
		}
		return nil
	})
}
