package helm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/realtimeops/realtime/internal/envtestbin"
)

// assetsDir fails the test when the envtest binaries are missing: it never skips.
func assetsDir(t *testing.T) string {
	dir, err := envtestbin.Dir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func startAPIServer(t *testing.T) *rest.Config {
	t.Helper()
	env := &envtest.Environment{BinaryAssetsDirectory: assetsDir(t)}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop envtest: %v", err)
		}
	})
	return cfg
}

// TestRenderedChartAcceptedByAPIServer installs the chart's CRDs on a real kube-apiserver, then
// submits every other rendered object with a server-side apply dry-run (schema, defaulting and
// admission all run; nothing is persisted), for each golden value set that needs no CRD from
// elsewhere. The samples of config/samples are then dry-run against the installed CRDs.
func TestRenderedChartAcceptedByAPIServer(t *testing.T) {
	cfg := startAPIServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kc := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	for _, ns := range []string{releaseNS, "team-a", "team-b"} {
		_, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))

	objs := objects(t, mustRender(t, nil).manifest)
	crds := byKind(objs, "CustomResourceDefinition")
	if len(crds) == 0 {
		t.Fatal("default render has no CRDs")
	}
	for _, crd := range crds {
		apply(ctx, t, dyn, mapper, crd, false)
	}
	waitEstablished(ctx, t, dyn, crds)
	mapper.Reset()

	for _, name := range []string{"default", "watch-namespaces"} {
		t.Run(name, func(t *testing.T) {
			var values map[string]any
			for _, tc := range goldenCases {
				if tc.name == name {
					values = tc.values
				}
			}
			for _, o := range objects(t, mustRender(t, values).manifest) {
				apply(ctx, t, dyn, mapper, o, true)
			}
		})
	}

	t.Run("samples", func(t *testing.T) {
		samples, _ := filepath.Glob(filepath.Join(repoRoot, "config", "samples", "realtime_*.yaml"))
		if len(samples) == 0 {
			t.Fatal("no samples in config/samples")
		}
		for _, f := range samples {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objects(t, string(data)) {
				o.SetNamespace("team-a")
				apply(ctx, t, dyn, mapper, o, true)
			}
		}
	})
}

// apply server-side applies obj (as a dry run when dryRun).
func apply(ctx context.Context, t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, obj *unstructured.Unstructured, dryRun bool) {
	t.Helper()
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("%s %s: no resource: %v", gvk.Kind, obj.GetName(), err)
	}
	// Strict field validation turns a misspelt or misplaced field into an error, not a warning.
	force := true
	opts := metav1.PatchOptions{FieldManager: "chart-test", Force: &force, FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == "namespace" {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = releaseNS
		}
		ri = dyn.Resource(m.Resource).Namespace(ns)
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts); err != nil {
		t.Errorf("apiserver rejects %s %s/%s: %v", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func waitEstablished(ctx context.Context, t *testing.T, dyn dynamic.Interface, crds []*unstructured.Unstructured) {
	t.Helper()
	for _, crd := range crds {
		err := waitFor(ctx, func() (bool, error) {
			u, err := dyn.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			} else if err != nil {
				return false, err
			}
			var c apiextensionsv1.CustomResourceDefinition
			if err := runtimeFromUnstructured(u, &c); err != nil {
				return false, err
			}
			for _, cond := range c.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("CRD %s not established: %v", crd.GetName(), err)
		}
	}
}

func waitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
