package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// The install path as the chart's NOTES describe it: a RealtimeCluster with neither image nor
// clusterSecretRef gets the release's node image and a generated inter-node secret, which the
// pods read, and which never shows up in events.
func TestClusterGeneratesSecretAndDefaultsImage(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	c := &realtimev1.RealtimeCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "realtime"},
		Spec:       realtimev1.RealtimeClusterSpec{Regions: []realtimev1.RegionSpec{{Name: "eu-west", Replicas: 2}}},
	}
	mustCreate(t, c)
	s := &corev1.Secret{}
	checkFor(t, 20*time.Second, func() error {
		return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-cluster-secret"}, s)
	})
	assertOwnedBy(t, s, c)
	value := string(s.Data[realtimev1.ClusterSecretKey])
	if len(value) < 40 { // 32 random bytes, base64
		t.Fatalf("generated secret is %d characters", len(value))
	}
	sts := &appsv1.StatefulSet{}
	checkFor(t, 20*time.Second, func() error {
		return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "realtime-eu-west"}, sts)
	})
	ctr := sts.Spec.Template.Spec.Containers[0]
	if env := envMap(ctr.Env); env["CLUSTER_SECRET"] != "secret:realtime-cluster-secret/secret" {
		t.Errorf("CLUSTER_SECRET %q", env["CLUSTER_SECRET"])
	}
	if ctr.Image != realtimev1.DefaultNodeImage() || strings.HasSuffix(ctr.Image, ":latest") {
		t.Errorf("image %q, want %q", ctr.Image, realtimev1.DefaultNodeImage())
	}
	// The first apply may precede the cache seeing the new Secret: the hash follows at once.
	var hash string
	checkFor(t, 10*time.Second, func() error {
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return err
		}
		if hash = sts.Spec.Template.Annotations[SecretsHashAnnotation]; hash == "" {
			return fmt.Errorf("no %s on the pod template", SecretsHashAnnotation)
		}
		return nil
	})
	waitClusterStatus(t, c, func(st realtimev1.RealtimeClusterStatus) error {
		if st.ClusterSecretName != "realtime-cluster-secret" {
			return fmt.Errorf("clusterSecretName %q", st.ClusterSecretName)
		}
		return nil
	})
	checkFor(t, 10*time.Second, func() error { return findEvent(ctx, ns, "realtime", "SecretGenerated") })
	assertNoEventContains(t, ns, value)

	// Rotation: deleting the Secret generates a new value and rolls the pods (new hash).
	if err := testClient.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 20*time.Second, func() error {
		n := &corev1.Secret{}
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(s), n); err != nil {
			return err
		}
		if string(n.Data[realtimev1.ClusterSecretKey]) == value {
			return fmt.Errorf("same value after rotation")
		}
		cur := &appsv1.StatefulSet{}
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(sts), cur); err != nil {
			return err
		}
		if cur.Spec.Template.Annotations[SecretsHashAnnotation] == hash {
			return fmt.Errorf("pod template hash unchanged")
		}
		return nil
	})
}

func assertNoEventContains(t *testing.T, ns, secret string) {
	t.Helper()
	var evs eventsv1.EventList
	if err := testClient.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if strings.Contains(e.Note, secret) {
			t.Fatalf("event %s carries the secret value", e.Reason)
		}
	}
}

// A renewed TLS certificate rolls the pods too (cert-manager renewals need no manual restart).
func TestClusterRollsOnTLSRenewal(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createClusterSecret(t, ns)
	tlsSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cert"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("cert-1"), corev1.TLSPrivateKeyKey: []byte("key-1")}}
	mustCreate(t, tlsSecret)
	c := twoRegionCluster(ns, "tls", 2)
	c.Spec.TLS = &realtimev1.TLSSpec{SecretRef: realtimev1.LocalObjectReference{Name: "cert"}}
	mustCreate(t, c)
	sts := &appsv1.StatefulSet{}
	hash := func() string {
		if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "tls-eu-west"}, sts); err != nil {
			return ""
		}
		return sts.Spec.Template.Annotations[SecretsHashAnnotation]
	}
	var first string
	checkFor(t, 20*time.Second, func() error {
		if first = hash(); first == "" {
			return fmt.Errorf("no secrets hash yet")
		}
		return nil
	})
	// Re-read: the operator labelled the Secret it references (WatchedSecretLabel).
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(tlsSecret), tlsSecret); err != nil {
		t.Fatal(err)
	}
	tlsSecret.Data[corev1.TLSCertKey] = []byte("cert-2")
	if err := testClient.Update(ctx, tlsSecret); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 20*time.Second, func() error {
		if h := hash(); h == first || h == "" {
			return fmt.Errorf("hash %q after the renewal (was %q)", h, first)
		}
		return nil
	})
}

// A clusterSecretRef naming a Secret without the key is reported in Ready and in an event (the
// pods would otherwise sit in CreateContainerConfigError with the cluster saying nothing).
func TestClusterReportsSecretProblems(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster"},
		StringData: map[string]string{"wrong-key": "x"}})
	c := twoRegionCluster(ns, "broken", 2)
	mustCreate(t, c)
	waitClusterStatus(t, c, func(st realtimev1.RealtimeClusterStatus) error {
		cond := meta.FindStatusCondition(st.Conditions, string(realtimev1.ClusterReady))
		if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != string(realtimev1.ReasonClusterSecretError) ||
			!strings.Contains(cond.Message, `Secret "cluster" has no key "secret"`) {
			return fmt.Errorf("ready %+v", cond)
		}
		return nil
	})
	checkFor(t, 10*time.Second, func() error { return findEvent(ctx, ns, "broken", string(realtimev1.ReasonClusterSecretError)) })
	// The pods can wait for the Secret: the StatefulSets exist meanwhile, without a secrets hash.
	sts := &appsv1.StatefulSet{}
	checkFor(t, 20*time.Second, func() error {
		return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "broken-eu-west"}, sts)
	})
	if h := sts.Spec.Template.Annotations[SecretsHashAnnotation]; h != "" {
		t.Errorf("secrets hash %q without the secret", h)
	}
	// Fixing the Secret heals the cluster without a poke (the Secret is watched).
	s := &corev1.Secret{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cluster"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data["secret"] = []byte("a-long-enough-inter-node-secret")
	if err := testClient.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitClusterStatus(t, c, func(st realtimev1.RealtimeClusterStatus) error {
		cond := meta.FindStatusCondition(st.Conditions, string(realtimev1.ClusterReady))
		if cond == nil || cond.Reason != string(realtimev1.ReasonNodesNotReady) {
			return fmt.Errorf("ready %+v", cond)
		}
		return nil
	})
	checkFor(t, 20*time.Second, func() error {
		if err := testClient.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return err
		}
		if sts.Spec.Template.Annotations[SecretsHashAnnotation] == "" {
			return fmt.Errorf("no secrets hash after the fix")
		}
		return nil
	})
}

// Cluster "a" region "b-x" and cluster "a-b" region "x" both derive the StatefulSet "a-b-x":
// the second one reports the conflict and leaves the first one's objects alone.
func TestClusterNameConflict(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster"},
		StringData: map[string]string{"secret": "a-long-enough-inter-node-secret"}})
	first := twoRegionCluster(ns, "a", 2)
	first.Spec.Regions = []realtimev1.RegionSpec{{Name: "b-x", Replicas: 2}}
	first.Spec.RegionMapping = nil
	mustCreate(t, first)
	sts := &appsv1.StatefulSet{}
	checkFor(t, 20*time.Second, func() error {
		return testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a-b-x"}, sts)
	})
	second := twoRegionCluster(ns, "a-b", 2)
	second.Spec.Regions = []realtimev1.RegionSpec{{Name: "x", Replicas: 2}}
	second.Spec.RegionMapping = nil
	mustCreate(t, second)
	waitClusterStatus(t, second, func(st realtimev1.RealtimeClusterStatus) error {
		cond := meta.FindStatusCondition(st.Conditions, string(realtimev1.ClusterReady))
		if cond == nil || cond.Reason != string(realtimev1.ReasonNameConflict) ||
			!strings.Contains(cond.Message, "StatefulSet a-b-x already exists and belongs to RealtimeCluster a") {
			return fmt.Errorf("ready %+v", cond)
		}
		return nil
	})
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
		t.Fatal(err)
	}
	assertOwnedBy(t, sts, first)
}

// kubectl get realtimeclusters shows every region (a JSONPath over the list printed the first).
func TestClusterPrinterColumns(t *testing.T) {
	ns := newNamespace(t)
	c := twoRegionCluster(ns, "cols", 2)
	mustCreate(t, c)
	waitClusterStatus(t, c, func(st realtimev1.RealtimeClusterStatus) error {
		if st.RegionNames == "" {
			return fmt.Errorf("no regionNames")
		}
		return nil
	})
	row := tableRow(t, "realtimeclusters", ns, "cols")
	if row["Regions"] != "eu-west,us-east" || row["Nodes"] != "0/4" {
		t.Fatalf("row %v", row)
	}
}

// tableRow asks the apiserver for the kubectl table of one object and returns its cells by
// column name: the printer columns exactly as kubectl get shows them.
func tableRow(t *testing.T, resource, ns, name string) map[string]string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(testCfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/apis", realtimev1.GroupVersion.Group, realtimev1.GroupVersion.Version,
		"namespaces", ns, resource, name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("table: %v", err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("table %s: %v", raw, err)
	}
	row := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		row[col.Name] = fmt.Sprint(table.Rows[0].Cells[i])
	}
	return row
}
