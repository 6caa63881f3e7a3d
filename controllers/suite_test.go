package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/envtestbin"
	"github.com/realtimeops/realtime/internal/testutil"
)

// The envtest suite runs the real kube-apiserver and etcd (built by hack/k8s-test-bins.sh) with
// the generated CRDs and the controllers as shipped (Setup). There is no kube-controller-manager,
// scheduler or kubelet: tests create node pods themselves and set their status.
var (
	testCfg    *rest.Config
	testClient client.Client // uncached: assertions read the apiserver directly
	// operatorCache is the controllers' informer cache: what the operator holds in memory.
	operatorCache client.Reader
	testScheme    = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	dir, err := envtestbin.Dir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	_ = clientgoscheme.AddToScheme(testScheme)
	_ = realtimev1.AddToScheme(testScheme)
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                testScheme,
	}
	start := time.Now()
	testCfg, err = env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: envtest start:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	fmt.Printf("envtest control plane up in %s\n", time.Since(start).Round(time.Millisecond))
	if testClient, err = client.New(testCfg, client.Options{Scheme: testScheme}); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: client:", err)
		return 1
	}
	ctrl.SetLogger(logr.Discard())
	mgr, err := ctrl.NewManager(testCfg, ctrl.Options{
		Scheme:  testScheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   CacheOptions(""),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: manager:", err)
		return 1
	}
	operatorCache = mgr.GetCache()
	// ClientsInterval -1: no pod serves /status here; TestClientsCounter drives the counter.
	if err := SetupWithOptions(mgr, Options{SlotDropTimeout: 10 * time.Second, HealthInterval: time.Second, ClientsInterval: -1}); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: setup:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	return code
}

// newNamespace gives each test its own namespace.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rt-"}}
	if err := testClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// checkFor polls fn until it returns nil or the timeout passes (NATS-style async assertion).
func checkFor(t *testing.T, timeout time.Duration, fn func() error) {
	t.Helper()
	testutil.EventuallyNil(t, timeout, "condition", fn)
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := testClient.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// twoRegionCluster is a RealtimeCluster with eu-west (euReplicas) and us-east (2).
func twoRegionCluster(ns, name string, euReplicas int32) *realtimev1.RealtimeCluster {
	return &realtimev1.RealtimeCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: realtimev1.RealtimeClusterSpec{
			Image: "ghcr.io/realtimeops/realtime-node:test",
			Regions: []realtimev1.RegionSpec{
				{Name: "eu-west", Replicas: euReplicas},
				{Name: "us-east", Replicas: 2},
			},
			RegionMapping:    map[string]string{"eu-central-1": "eu-west", "us-east-1": "us-east"},
			ClusterSecretRef: &realtimev1.SecretKeySelector{Name: "cluster", Key: "secret"},
		},
	}
}

// nodeLeaseLabels are the labels nodes put on the tenant Leases they create
// (node/tenant/kube: ClusterLabel); the operator caches only labelled Leases.
func nodeLeaseLabels(cluster string) map[string]string {
	return map[string]string{realtimev1.ClusterLabel: cluster}
}

// createClusterSecret creates the Secret twoRegionCluster references for inter-node links.
func createClusterSecret(t *testing.T, ns string) {
	t.Helper()
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster"},
		StringData: map[string]string{"secret": "a-long-enough-inter-node-secret"}})
}

// createNodePod creates a node pod of the cluster as the StatefulSet controller would, and sets
// its readiness as a kubelet would.
func createNodePod(t *testing.T, ns, cluster, region, name string, ready bool) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			realtimev1.ClusterLabel: cluster, realtimev1.RegionLabel: region,
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "node", Image: "node:test"}}},
	}
	mustCreate(t, p)
	setPodReady(t, p, ready)
	return p
}

func setPodReady(t *testing.T, p *corev1.Pod, ready bool) {
	t.Helper()
	ctx := context.Background()
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatalf("get pod: %v", err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = fmt.Sprintf("10.0.0.%d", len(p.Name)+int(p.Name[len(p.Name)-1]))
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	if err := testClient.Status().Update(ctx, p); err != nil {
		t.Fatalf("set pod %s ready=%v: %v", p.Name, ready, err)
	}
}
