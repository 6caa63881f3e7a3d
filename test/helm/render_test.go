package helm

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// goldenCases are the value sets rendered to testdata/<name>.golden.
var goldenCases = []struct {
	name   string
	values map[string]any
}{
	{"default", nil},
	{"watch-namespaces", map[string]any{"watchNamespaces": []any{"team-a", "team-b"}}},
	{"service-monitor", map[string]any{
		"crds":    map[string]any{"create": false},
		"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
	}},
}

func TestGoldenRender(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, tc.values)
			golden(t, tc.name, []byte(withoutCRDs(r.manifest)+"\n# ---- NOTES.txt ----\n"+r.notes+"\n"))
		})
	}
}

// withoutCRDs drops the CRD documents from a manifest: they are the generated ones, checked
// against config/crd/bases by TestChartCRDsUpToDate and TestRenderedCRDsEqualBases, so an API
// change does not also churn every golden file.
func withoutCRDs(manifest string) string {
	docs := strings.Split(manifest, "\n---\n")
	kept := []string{"# CRDs (templates/crds/) omitted: see TestChartCRDsUpToDate"}
	for _, d := range docs {
		if !strings.Contains(d, "# Source: realtime-operator/templates/crds/") {
			kept = append(kept, strings.TrimPrefix(d, "---\n"))
		}
	}
	return strings.Join(kept, "\n---\n")
}

func TestDefaultRender(t *testing.T) {
	objs := objects(t, mustRender(t, nil).manifest)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	want := map[string]int{
		"CustomResourceDefinition": 2, "ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1,
		"Role": 1, "RoleBinding": 1, "Deployment": 1, "Service": 1,
	}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	for _, crd := range byKind(objs, "CustomResourceDefinition") {
		if crd.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s lacks helm.sh/resource-policy: keep", crd.GetName())
		}
	}

	dep := byKind(objs, "Deployment")[0]
	c := container(t, dep)
	image, _, _ := unstructured.NestedString(c, "image")
	if image != "ghcr.io/realtimeops/realtime-operator:0.1.0" {
		t.Errorf("image = %q", image)
	}
	args := stringSlice(t, c, "args")
	for _, a := range []string{"--leader-elect=true", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081",
		"--node-image=ghcr.io/realtimeops/realtime-node:0.1.0"} {
		if !slices.Contains(args, a) {
			t.Errorf("args %q lack %q", args, a)
		}
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--watch-namespaces") }) {
		t.Errorf("cluster-wide install passes --watch-namespaces: %q", args)
	}
	for path, want := range map[string]any{
		"livenessProbe.httpGet.path": "/healthz", "readinessProbe.httpGet.path": "/readyz",
		"securityContext.allowPrivilegeEscalation": false, "securityContext.readOnlyRootFilesystem": true,
	} {
		if got, _, _ := unstructured.NestedFieldNoCopy(c, strings.Split(path, ".")...); got != want {
			t.Errorf("container %s = %v, want %v", path, got, want)
		}
	}
	if nonRoot, _, _ := unstructured.NestedBool(dep.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot"); !nonRoot {
		t.Error("pod is not runAsNonRoot")
	}
	if uid, _, _ := unstructured.NestedInt64(dep.Object, "spec", "template", "spec", "securityContext", "runAsUser"); uid != 65532 {
		t.Errorf("runAsUser = %d", uid)
	}
	svc := byKind(objs, "Service")[0]
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 || ports[0].(map[string]any)["targetPort"] != "metrics" {
		t.Errorf("metrics Service ports = %v", ports)
	}
}

func TestWatchNamespacesRender(t *testing.T) {
	objs := objects(t, mustRender(t, map[string]any{"watchNamespaces": []any{"team-a", "team-b"}}).manifest)
	args := stringSlice(t, container(t, byKind(objs, "Deployment")[0]), "args")
	if !slices.Contains(args, "--watch-namespaces=team-a,team-b") {
		t.Errorf("args = %q", args)
	}
	var managerRoles []string
	for _, r := range byKind(objs, "Role") {
		if strings.HasSuffix(r.GetName(), "-manager") {
			managerRoles = append(managerRoles, r.GetNamespace())
		}
	}
	if !slices.Equal(managerRoles, []string{"team-a", "team-b"}) {
		t.Errorf("manager Roles in %q, want team-a, team-b", managerRoles)
	}
	for _, cr := range byKind(objs, "ClusterRole") {
		rules := rulesOf(t, cr)
		for _, r := range rules {
			if r.resource != "nodes" {
				t.Errorf("ClusterRole %s grants %v cluster-wide in namespaced mode", cr.GetName(), r)
			}
		}
	}
	if n := len(byKind(objs, "RoleBinding")); n != 3 {
		t.Errorf("%d RoleBindings, want 2 manager + 1 leader election", n)
	}
}

func TestOptionalParts(t *testing.T) {
	objs := objects(t, mustRender(t, map[string]any{
		// One replica: with more, leader election is forced on (TestLeaderElectionForcedWithReplicas).
		"crds": map[string]any{"create": false}, "leaderElection": map[string]any{"enabled": false}, "replicaCount": 1,
		"metrics": map[string]any{"enabled": false}, "rbac": map[string]any{"create": false},
		"serviceAccount": map[string]any{"create": false, "name": "existing"},
	}).manifest)
	if len(objs) != 1 || objs[0].GetKind() != "Deployment" {
		var kinds []string
		for _, o := range objs {
			kinds = append(kinds, o.GetKind())
		}
		t.Fatalf("objects = %v, want only the Deployment", kinds)
	}
	args := stringSlice(t, container(t, objs[0]), "args")
	if !slices.Contains(args, "--leader-elect=false") || !slices.Contains(args, "--metrics-bind-address=0") {
		t.Errorf("args = %q", args)
	}
	if sa, _, _ := unstructured.NestedString(objs[0].Object, "spec", "template", "spec", "serviceAccountName"); sa != "existing" {
		t.Errorf("serviceAccountName = %q", sa)
	}
}

// TestSchemaRejectsBadValues: values.schema.json is strict, so typos fail at install time.
func TestSchemaRejectsBadValues(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"unknown top-level key":  {"replicas": 3},
		"unknown nested key":     {"metrics": map[string]any{"servicemonitor": map[string]any{"enabled": true}}},
		"namespace not a list":   {"watchNamespaces": "team-a"},
		"namespace not a label":  {"watchNamespaces": []any{"Team_A"}},
		"bad log level":          {"logLevel": "verbose"},
		"bad pull policy":        {"image": map[string]any{"pullPolicy": "Sometimes"}},
		"port out of range":      {"metrics": map[string]any{"port": 70000}},
		"extra arg not a flag":   {"extraArgs": []any{"leader-elect"}},
		"crds.create not a bool": {"crds": map[string]any{"create": "yes"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := render(t, values); err == nil {
				t.Fatal("values accepted")
			} else if !strings.Contains(err.Error(), "schema") {
				t.Fatalf("error does not come from the schema: %v", err)
			}
		})
	}
}

func container(t *testing.T, dep *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("%d containers", len(cs))
	}
	return cs[0].(map[string]any)
}

func stringSlice(t *testing.T, obj map[string]any, field string) []string {
	t.Helper()
	s, _, err := unstructured.NestedStringSlice(obj, field)
	if err != nil {
		t.Fatalf("%s: %v", field, err)
	}
	return s
}

// Two operator replicas without leader election would both reconcile: the chart forces it on.
func TestLeaderElectionForcedWithReplicas(t *testing.T) {
	for _, tc := range []struct {
		replicas int
		enabled  bool
		want     string
	}{{2, false, "--leader-elect=true"}, {1, false, "--leader-elect=false"}, {1, true, "--leader-elect=true"}} {
		objs := objects(t, mustRender(t, map[string]any{"replicaCount": tc.replicas,
			"leaderElection": map[string]any{"enabled": tc.enabled}}).manifest)
		args := stringSlice(t, container(t, byKind(objs, "Deployment")[0]), "args")
		if !slices.Contains(args, tc.want) {
			t.Errorf("replicas %d enabled %v: args %q, want %s", tc.replicas, tc.enabled, args, tc.want)
		}
		roles := 0
		for _, r := range byKind(objs, "Role") {
			if strings.HasSuffix(r.GetName(), "-leader-election") {
				roles++
			}
		}
		if (roles == 1) != (tc.want == "--leader-elect=true") {
			t.Errorf("replicas %d enabled %v: %d leader-election Roles", tc.replicas, tc.enabled, roles)
		}
	}
}
