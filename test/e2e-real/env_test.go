//go:build e2ereal

// Package e2ereal runs the product the way a platform team does, on the real cluster of
// hack/real-cluster.sh (real kubelets, kube-proxy, CoreDNS, Postgres): the README's quick start
// installed with helm, realtime-js through the Service and the pods, and failure drills. It runs
// inside the cluster's network namespace with .e2e-real/env (`make e2e-real` does both); the
// build tag keeps it out of a plain `go test ./...`, which has no cluster.
package e2ereal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/test/conformance"
)

const (
	ns           = "realtime"
	clusterName  = "realtime"
	regionLabel  = "realtime.realtimeops.io/region"
	nodePortHTTP = 4000
)

// env is .e2e-real/env (see README, "A real cluster for tests").
type env struct {
	kubeconfig, kubectl   string
	helm, chart           string
	version, prevVersion  string // image tags: the working tree's and the upgrade drill's previous
	url, urlPod1, urlPod2 string
	tenants               []tenantEnv // eu-app (its database in eu-west), us-app (us-east)
	delaySock             string      // hack/delayline's control socket
	rttHold               time.Duration
}

type tenantEnv struct {
	name, host, region, dbURL string
	secret                    []byte
}

func loadEnv(t *testing.T) env {
	t.Helper()
	get := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			t.Fatalf("%s is not set: run through `make e2e-real` (hack/e2e-real-run.sh sources .e2e-real/env)", k)
		}
		return v
	}
	hold, err := time.ParseDuration(get("E2E_RTT_HOLD"))
	if err != nil {
		t.Fatalf("E2E_RTT_HOLD: %v", err)
	}
	return env{
		delaySock: get("E2E_DELAYLINE_SOCK"), rttHold: hold,
		kubeconfig: get("KUBECONFIG"), kubectl: get("E2E_KUBECTL"),
		helm: get("E2E_HELM"), chart: get("E2E_CHART"), version: get("E2E_IMAGE_VERSION"),
		prevVersion: os.Getenv("E2E_PREV_IMAGE_VERSION"),
		url:         get("REALTIME_URL"), urlPod1: get("REALTIME_URL_POD1"), urlPod2: get("REALTIME_URL_POD2"),
		tenants: []tenantEnv{
			{name: "eu-app", region: "eu-west", host: get("REALTIME_TENANT_HOST"), dbURL: get("REALTIME_DB_URL"),
				secret: []byte(get("REALTIME_JWT_SECRET"))},
			{name: "us-app", region: "us-east", host: get("REALTIME_TENANT2_HOST"), dbURL: get("REALTIME_DB_URL2"),
				secret: []byte(get("REALTIME_JWT_SECRET2"))},
		},
	}
}

func (te tenantEnv) token() string {
	return conformance.MustSign(te.secret, conformance.Claims(2*time.Hour))
}

func kubeClient(t *testing.T, e env) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = realtimev1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kubectl(t *testing.T, e env, args ...string) string {
	t.Helper()
	out, err := exec.Command(e.kubectl, append([]string{"--kubeconfig", e.kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// eventually polls cond every 250 ms until it returns nil or timeout passes (checkFor style).
func eventually(t *testing.T, what string, timeout time.Duration, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < timeout {
		if err = cond(); err == nil {
			return time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, timeout, err)
	return 0
}

// nodePods lists the node pods of the cluster, sorted by name.
func nodePods(t *testing.T, c client.Client) []corev1.Pod {
	t.Helper()
	var l corev1.PodList
	if err := c.List(context.Background(), &l, client.InNamespace(ns),
		client.MatchingLabels{realtimev1.ClusterLabel: clusterName}); err != nil {
		t.Fatal(err)
	}
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Name < l.Items[j].Name })
	return l.Items
}

func podReady(p corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.PodIP == "" {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// allReady waits until every region has its replicas Ready (after a drill: recreated pods too).
func allReady(t *testing.T, c client.Client, want int, timeout time.Duration) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	eventually(t, fmt.Sprintf("%d node pods Ready", want), timeout, func() error {
		pods = nodePods(t, c)
		n := 0
		for _, p := range pods {
			if podReady(p) {
				n++
			}
		}
		if n != want || len(pods) != want {
			return fmt.Errorf("%d of %d pods Ready", n, len(pods))
		}
		return nil
	})
	return pods
}

func podURL(p corev1.Pod) string {
	return fmt.Sprintf("ws://%s:%d/socket", p.Status.PodIP, nodePortHTTP)
}

// nodeStatus is the node's GET /status (the client port, or the admin port when the pod has one).
type nodeStatus struct {
	Peers []struct {
		Name   string `json:"name"`
		Region string `json:"region"`
	} `json:"peers"`
}

func statusOf(p corev1.Pod) (nodeStatus, error) {
	port := nodePortHTTP
	for _, cp := range p.Spec.Containers[0].Ports {
		if cp.Name == "admin" {
			port = int(cp.ContainerPort)
		}
	}
	var s nodeStatus
	hc := http.Client{Timeout: 3 * time.Second}
	resp, err := hc.Get(fmt.Sprintf("http://%s:%d/status", p.Status.PodIP, port))
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /status on %s: %s", p.Name, resp.Status)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func tenant(t *testing.T, c client.Client, name string) *realtimev1.Tenant {
	t.Helper()
	var tn realtimev1.Tenant
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &tn); err != nil {
		t.Fatal(err)
	}
	return &tn
}

func owner(t *testing.T, c client.Client, name string) string {
	t.Helper()
	if r := tenant(t, c, name).Status.Replication; r != nil {
		return r.Node
	}
	return ""
}

// db opens the tenant database as the superuser (REALTIME_DB_URL).
func db(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec1(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
