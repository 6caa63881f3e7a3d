package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const ns = "realtime"

var at = metav1.NewTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))

// twoRegions is the sample of the README's Kubernetes quick start: two regions of two pods, a
// tenant per region, one pod draining.
func twoRegions() []client.Object {
	rc := &realtimev1.RealtimeCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "realtime", Namespace: ns},
		Spec:       realtimev1.RealtimeClusterSpec{Regions: []realtimev1.RegionSpec{{Name: "eu-west", Replicas: 2}, {Name: "us-east", Replicas: 2}}},
		Status: realtimev1.RealtimeClusterStatus{Phase: "Ready", Nodes: "4/4", Regions: []realtimev1.RegionStatus{
			{Name: "eu-west", Desired: 2, Ready: 2}, {Name: "us-east", Desired: 2, Ready: 2}}},
	}
	objs := []client.Object{rc}
	for _, name := range []string{"realtime-eu-west-0", "realtime-eu-west-1", "realtime-us-east-0", "realtime-us-east-1"} {
		region := strings.Join(strings.Split(name, "-")[1:3], "-")
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: rc.RegionLabels(region)},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "node", Image: "realtime-node"}}},
			Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
		if name == "realtime-us-east-0" {
			p.Annotations = map[string]string{realtimev1.DrainingAnnotation: "true"}
		}
		objs = append(objs, p)
	}
	tenant := func(name, region, owner, reason string) *realtimev1.Tenant {
		return &realtimev1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: realtimev1.TenantSpec{ClusterRef: realtimev1.LocalObjectReference{Name: "realtime"},
				JWT: realtimev1.JWTSpec{SecretRef: &realtimev1.SecretKeySelector{Name: name + "-jwt", Key: "secret"}},
				Database: &realtimev1.DatabaseSpec{Host: "db", Name: name, Region: region,
					PasswordSecretRef: realtimev1.SecretKeySelector{Name: name + "-db", Key: "password"}}},
			Status: realtimev1.TenantStatus{ExternalID: name,
				Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Assigned", Message: "owned by " + owner, LastTransitionTime: at}},
				Replication: &realtimev1.ReplicationStatus{Node: owner, Region: region, Since: &at, Reason: reason,
					LastMove: &realtimev1.MoveRecord{From: "realtime-us-east-0", To: owner, Reason: realtimev1.MoveOwnerDraining, At: at,
						Duration: &metav1.Duration{Duration: 1500 * time.Millisecond}}}},
		}
	}
	objs = append(objs, tenant("eu-app", "eu-west", "realtime-eu-west-0", "SameRegion"), tenant("us-app", "us-east", "realtime-us-east-1", "SameRegion"),
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "us-app.1", Namespace: ns},
			InvolvedObject: corev1.ObjectReference{Kind: "Tenant", Name: "us-app", Namespace: ns},
			Type:           "Normal", Reason: "Moved", Message: "WAL work moved from realtime-us-east-0 to realtime-us-east-1 (OwnerDraining)",
			Count: 1, LastTimestamp: at})
	return objs
}

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := realtimev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// nodeStatuses answers like the node pods' /status; realtime-us-east-0 is unreachable.
func nodeStatuses(_ context.Context, _, pod string) (*nodeStatus, error) {
	counts := map[string]string{
		"realtime-eu-west-0": `{"sockets":3,"tenants":[{"tenant":"eu-app","sockets":3,"channels":5}],"peers":[{},{},{}]}`,
		"realtime-eu-west-1": `{"sockets":1,"tenants":[{"tenant":"eu-app","sockets":1,"channels":1}],"peers":[{},{},{}]}`,
		"realtime-us-east-1": `{"sockets":0,"tenants":[],"peers":[{},{},{}]}`,
	}
	raw, ok := counts[pod]
	if !ok {
		return nil, errors.New("connection refused")
	}
	var st nodeStatus
	if err := jsonUnmarshal(raw, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func runCmd(t *testing.T, c client.Client, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	conn := func(_, _, namespace string) (client.Client, nodeStatusFunc, string, error) {
		if namespace == "" {
			namespace = ns
		}
		return c, nodeStatuses, namespace, nil
	}
	code := run(context.Background(), args, &out, &errb, conn)
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./cmd/kubectl-realtime -update after an intended change)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	testGolden(t, fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(twoRegions()...).Build())
}

// testGolden runs the commands against c (a fake client, or a real API server in
// envtest_test.go) and compares with the same golden files.
func testGolden(t *testing.T, c client.Client) {
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"status.txt", []string{"status"}},
		{"status-named.json", []string{"status", "realtime", "-o", "json"}},
		{"tenant.txt", []string{"tenant", "us-app", "-n", ns}},
		{"tenant.yaml", []string{"tenant", "-o", "yaml", "eu-app"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			code, out, errs := runCmd(t, c, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			golden(t, tc.file, out)
		})
	}
}

func TestExitCodes(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(twoRegions()...).Build()
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"status", "-o", "xml"}, 2, "--output"},
		{[]string{"tenant"}, 2, "one Tenant name"},
		{[]string{"tenant", "nope"}, 1, "not found"},
		{[]string{"status", "-n", "elsewhere"}, 1, "no RealtimeCluster"},
		{[]string{"move", "eu-app"}, 2, "--to POD"},
		{[]string{"move", "nope", "--to", "realtime-eu-west-1"}, 1, "not found"},
		{[]string{"move", "eu-app", "--to", "nope"}, 1, "not found"},
		{[]string{"move", "eu-app", "--to", "realtime-eu-west-1", "--timeout", "50ms"}, 1, "timed out"},
		{[]string{"drain", "realtime-eu-west-0", "--timeout", "50ms"}, 1, "timed out"},
	} {
		code, _, errs := runCmd(t, c, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errs, tc.code, tc.err)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestKrewManifest checks the krew template names the archives `make kubectl-realtime-dist`
// builds and the binary in them.
func TestKrewManifest(t *testing.T) {
	b, err := os.ReadFile("krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := string(b)
	for _, p := range []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"} {
		if !strings.Contains(m, "kubectl-realtime_"+p+".tar.gz") {
			t.Errorf("krew.yaml has no archive for %s", p)
		}
	}
	if n := strings.Count(m, "bin: kubectl-realtime"); n != 4 {
		t.Errorf("krew.yaml names the binary %d times, want 4", n)
	}
	for _, want := range []string{"kind: Plugin", "name: realtime", "shortDescription:"} {
		if !strings.Contains(m, want) {
			t.Errorf("krew.yaml lacks %q", want)
		}
	}
}
