package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

func TestClusterCreatesRegionObjects(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c := twoRegionCluster(ns, "realtime", 2)
	mustCreate(t, c)

	for _, region := range []string{"eu-west", "us-east"} {
		sts := &appsv1.StatefulSet{}
		checkFor(t, 20*time.Second, func() error {
			return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-" + region}, sts)
		})
		assertOwnedBy(t, sts, c)
		if *sts.Spec.Replicas != 2 || sts.Spec.ServiceName != "realtime-nodes" {
			t.Errorf("%s: replicas %d serviceName %q", region, *sts.Spec.Replicas, sts.Spec.ServiceName)
		}
		if sts.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
			t.Errorf("%s: update strategy %q", region, sts.Spec.UpdateStrategy.Type)
		}
		pod := sts.Spec.Template.Spec
		na := pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
		if na.Key != "topology.kubernetes.io/region" || na.Values[0] != region {
			t.Errorf("%s: node affinity %+v", region, na)
		}
		aa := pod.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
		if aa.TopologyKey != "kubernetes.io/hostname" || aa.LabelSelector.MatchLabels[realtimev1.ClusterLabel] != "realtime" {
			t.Errorf("%s: anti-affinity %+v", region, aa)
		}
		if ts := pod.TopologySpreadConstraints; len(ts) != 1 || ts[0].TopologyKey != "topology.kubernetes.io/zone" {
			t.Errorf("%s: topology spread %+v", region, ts)
		}
		env := envMap(pod.Containers[0].Env)
		if env["REGION"] != region || env["CLUSTER_NAME"] != "realtime" || env["POD_NAME"] != "fieldRef:metadata.name" ||
			env["POD_IP"] != "fieldRef:status.podIP" || env["NAMESPACE"] != "fieldRef:metadata.namespace" ||
			env["CLUSTER_SECRET"] != "secret:cluster/secret" {
			t.Errorf("%s: env %v", region, env)
		}
		if p := pod.Containers[0].ReadinessProbe; p == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.StrVal != "http" {
			t.Errorf("%s: readiness probe %+v", region, p)
		}
		if p := pod.Containers[0].LivenessProbe; p == nil || p.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: liveness probe %+v", region, p)
		}
		pdb := &policyv1.PodDisruptionBudget{}
		checkFor(t, 20*time.Second, func() error {
			return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-" + region}, pdb)
		})
		assertOwnedBy(t, pdb, c)
		if pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector.MatchLabels[realtimev1.RegionLabel] != region {
			t.Errorf("%s: pdb %+v", region, pdb.Spec)
		}
	}
	headless, client_ := &corev1.Service{}, &corev1.Service{}
	checkFor(t, 20*time.Second, func() error {
		return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-nodes"}, headless)
	})
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("headless service %+v", headless.Spec)
	}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime"}, client_); err != nil {
		t.Fatal(err)
	}
	if client_.Spec.Ports[0].Port != 4000 || client_.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("client service %+v", client_.Spec)
	}
	for _, obj := range []client.Object{headless, client_} {
		assertOwnedBy(t, obj, c)
	}
	role := &rbacv1.Role{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-node"}, role); err != nil {
		t.Fatal(err)
	}
	assertOwnedBy(t, role, c)
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &rbacv1.RoleBinding{}} {
		if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-node"}, obj); err != nil {
			t.Fatalf("%T: %v", obj, err)
		}
		assertOwnedBy(t, obj, c)
	}

	// Reconciling again changes nothing: server-side apply of the same objects is a no-op.
	sts := &appsv1.StatefulSet{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-eu-west"}, sts); err != nil {
		t.Fatal(err)
	}
	rv := sts.ResourceVersion
	checkFor(t, 10*time.Second, func() error {
		cur := &realtimev1.RealtimeCluster{}
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(c), cur); err != nil {
			return err
		}
		cur.Annotations = map[string]string{"poke": "1"} // triggers a reconcile, no spec change
		return testClient.Update(ctx, cur)
	})
	time.Sleep(500 * time.Millisecond)
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil || sts.ResourceVersion != rv {
		t.Fatalf("statefulset rewritten by an idle reconcile: rv %s -> %s (%v)", rv, sts.ResourceVersion, err)
	}

	// Removing a region prunes its StatefulSet and PDB.
	checkFor(t, 10*time.Second, func() error {
		cur := &realtimev1.RealtimeCluster{}
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(c), cur); err != nil {
			return err
		}
		cur.Spec.Regions = cur.Spec.Regions[:1]
		cur.Spec.RegionMapping = map[string]string{"eu-central-1": "eu-west"} // CEL: values must be regions
		return testClient.Update(ctx, cur)
	})
	checkFor(t, 10*time.Second, func() error {
		err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-us-east"}, &appsv1.StatefulSet{})
		if client.IgnoreNotFound(err) != nil || err == nil {
			return fmt.Errorf("us-east statefulset still there (err=%v)", err)
		}
		return nil
	})
	// The prune is reported with the object's kind, not its Go type.
	checkFor(t, 10*time.Second, func() error {
		var evs eventsv1.EventList
		if err := testClient.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == "Deleted" && e.Note == "Deleted StatefulSet realtime-us-east of a removed region" {
				return nil
			}
		}
		return fmt.Errorf("no prune event among %d events", len(evs.Items))
	})
}

func assertOwnedBy(t *testing.T, obj client.Object, owner *realtimev1.RealtimeCluster) {
	t.Helper()
	refs := obj.GetOwnerReferences()
	if len(refs) != 1 || refs[0].Kind != "RealtimeCluster" || refs[0].Name != owner.Name ||
		refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("%T %s owner references %+v", obj, obj.GetName(), refs)
	}
}

func envMap(env []corev1.EnvVar) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		switch {
		case e.ValueFrom == nil:
			m[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil:
			m[e.Name] = "fieldRef:" + e.ValueFrom.FieldRef.FieldPath
		case e.ValueFrom.SecretKeyRef != nil:
			m[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	return m
}

func TestInvalidSpecsRejected(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	okCluster := func() *realtimev1.RealtimeCluster { return twoRegionCluster(ns, "c", 2) }
	okTenant := func() *realtimev1.Tenant { return testTenant(ns, "t", "c", "") }
	tests := []struct {
		name string
		obj  client.Object
		want string
	}{
		{"one replica", func() client.Object { c := okCluster(); c.Spec.Regions[0].Replicas = 1; return c }(),
			"each region needs at least 2 replicas"},
		{"duplicate regions", func() client.Object { c := okCluster(); c.Spec.Regions[1].Name = "eu-west"; return c }(),
			"region names must be unique"},
		{"mapping to unknown region", func() client.Object {
			c := okCluster()
			c.Spec.RegionMapping = map[string]string{"ap-south-1": "ap-south"}
			return c
		}(), "every regionMapping value must be the name of a region"},
		{"postgres discovery without secret", func() client.Object {
			c := okCluster()
			c.Spec.Discovery.Mode = realtimev1.DiscoveryPostgres
			return c
		}(), "discovery.postgres.secretRef is required"},
		{"bad externalId", func() client.Object { tn := okTenant(); tn.Spec.ExternalID = "Bad_Id"; return tn }(),
			"externalId must be a DNS label"},
		{"name not a DNS label", func() client.Object { tn := okTenant(); tn.Name = "a.b"; return tn }(),
			"metadata.name is not a DNS label"},
		{"no jwt key", func() client.Object { tn := okTenant(); tn.Spec.JWT = realtimev1.JWTSpec{}; return tn }(),
			"jwt needs secretRef"},
		{"cluster named like a headless Service", func() client.Object { c := okCluster(); c.Name = "x-nodes"; return c }(),
			"cluster name must not end in -nodes"},
		{"failoverDelay not a duration", failoverDelay(okTenant(), "5 minutes"), "spec.failoverDelay in body should match"},
		{"failoverDelay negative", failoverDelay(okTenant(), "-1s"), "spec.failoverDelay in body should match"},
		{"failoverDelay too long", failoverDelay(okTenant(), "11m"), "failoverDelay must be at most 10m"},
		{"maxSlotLag zero", func() client.Object {
			tn := testTenant(ns, "t", "c", "eu-west")
			q := resource.MustParse("0")
			tn.Spec.Database.MaxSlotLag = &q
			return tn
		}(), "maxSlotLag must be a positive quantity"},
		{"unknown slotPolicy", func() client.Object {
			tn := testTenant(ns, "t", "c", "eu-west")
			tn.Spec.Database.SlotPolicy = "never"
			return tn
		}(), `supported values: "dropWhenSuspended", "keep"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testClient.Create(ctx, tt.obj)
			if err == nil {
				t.Fatalf("accepted, want rejection with %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			t.Logf("rejected: %v", err)
		})
	}
	t.Run("externalId immutable", func(t *testing.T) {
		tn := okTenant()
		tn.Name, tn.Spec.ExternalID = "immutable", "first"
		mustCreate(t, tn)
		var err error
		for range 10 { // the controller writes status meanwhile: retry on conflicts
			cur := &realtimev1.Tenant{}
			if err = testClient.Get(ctx, client.ObjectKeyFromObject(tn), cur); err != nil {
				t.Fatal(err)
			}
			cur.Spec.ExternalID = "second"
			if err = testClient.Update(ctx, cur); !apierrors.IsConflict(err) {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), "externalId is immutable") {
			t.Fatalf("update externalId: %v", err)
		}
	})
}

// failoverDelay sets spec.failoverDelay to a raw string, bypassing metav1.Duration's parser as
// kubectl apply would.
func failoverDelay(tn *realtimev1.Tenant, raw string) client.Object {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tn)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(realtimev1.GroupVersion.WithKind("Tenant"))
	_ = unstructured.SetNestedField(u.Object, raw, "spec", "failoverDelay")
	return u
}

func TestClusterStatusFollowsPodReadiness(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createClusterSecret(t, ns) // without it Ready is False (ClusterSecretMissing) whatever the pods say
	c := twoRegionCluster(ns, "status", 2)
	mustCreate(t, c)
	pods := []*corev1.Pod{
		createNodePod(t, ns, "status", "eu-west", "status-eu-west-0", true),
		createNodePod(t, ns, "status", "eu-west", "status-eu-west-1", true),
		createNodePod(t, ns, "status", "us-east", "status-us-east-0", true),
		createNodePod(t, ns, "status", "us-east", "status-us-east-1", false),
	}
	waitClusterStatus(t, c, func(s realtimev1.RealtimeClusterStatus) error {
		if s.Nodes != "3/4" || len(s.ReadyNodes) != 3 || s.Regions[0].Ready != 2 || s.Regions[1].Ready != 1 {
			return fmt.Errorf("nodes %s regions %+v readyNodes %+v", s.Nodes, s.Regions, s.ReadyNodes)
		}
		if meta.IsStatusConditionTrue(s.Conditions, string(realtimev1.ClusterReady)) {
			return fmt.Errorf("ready with 3/4 pods")
		}
		return nil
	})
	setPodReady(t, pods[3], true)
	waitClusterStatus(t, c, func(s realtimev1.RealtimeClusterStatus) error {
		cond := meta.FindStatusCondition(s.Conditions, string(realtimev1.ClusterReady))
		if s.Nodes != "4/4" || cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != c.Generation {
			return fmt.Errorf("nodes %s ready %+v", s.Nodes, cond)
		}
		if s.ReadyNodes[0].Name != "status-eu-west-0" || s.ReadyNodes[3].Region != "us-east" || s.ReadyNodes[0].PodIP == "" {
			return fmt.Errorf("readyNodes %+v", s.ReadyNodes)
		}
		return nil
	})
	setPodReady(t, pods[0], false)
	if err := testClient.Delete(ctx, pods[1]); err != nil {
		t.Fatal(err)
	}
	waitClusterStatus(t, c, func(s realtimev1.RealtimeClusterStatus) error {
		if s.Nodes != "2/4" || s.Regions[0].Ready != 0 || s.Phase == "Ready" {
			return fmt.Errorf("nodes %s regions %+v phase %s", s.Nodes, s.Regions, s.Phase)
		}
		return nil
	})
}

func waitClusterStatus(t *testing.T, c *realtimev1.RealtimeCluster, check func(realtimev1.RealtimeClusterStatus) error) {
	t.Helper()
	checkFor(t, 20*time.Second, func() error {
		cur := &realtimev1.RealtimeCluster{}
		if err := testClient.Get(context.Background(), client.ObjectKeyFromObject(c), cur); err != nil {
			return err
		}
		c.Generation = cur.Generation
		if cur.Status.ObservedGeneration != cur.Generation {
			return fmt.Errorf("observedGeneration %d != %d", cur.Status.ObservedGeneration, cur.Generation)
		}
		return check(cur.Status)
	})
}
