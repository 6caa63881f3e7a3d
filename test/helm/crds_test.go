package helm

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/realtimeops/realtime/test/helm/chartcrds"
)

var chartCRDs = filepath.Join(chartDir, "templates", "crds")

// TestChartCRDsUpToDate is the no-diff check: every CRD of config/crd/bases, wrapped, is exactly
// the chart's template, and the chart has no other CRD.
func TestChartCRDsUpToDate(t *testing.T) {
	bases, err := filepath.Glob(filepath.Join(crdBases, "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no CRDs in %s (run `make manifests`): %v", crdBases, err)
	}
	const fix = "run `make chart-crds`"
	seen := map[string]bool{}
	for _, b := range bases {
		name := filepath.Base(b)
		seen[name] = true
		src, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		want, err := chartcrds.Wrap(name, src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chartCRDs, name))
		if err != nil {
			t.Errorf("chart lacks CRD %s: %s", name, fix)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("chart CRD %s differs from config/crd/bases: %s\n%s", name, fix, firstDiff(string(want), string(got)))
		}
	}
	tmpl, _ := filepath.Glob(filepath.Join(chartCRDs, "*.yaml"))
	for _, f := range tmpl {
		if !seen[filepath.Base(f)] {
			t.Errorf("chart CRD %s has no source in config/crd/bases: %s", filepath.Base(f), fix)
		}
	}
}

// TestRenderedCRDsEqualBases: once rendered, the chart's CRDs are the generated ones plus the
// chart's labels and the keep annotation, nothing else.
func TestRenderedCRDsEqualBases(t *testing.T) {
	want := map[string]map[string]any{}
	bases, _ := filepath.Glob(filepath.Join(crdBases, "*.yaml"))
	for _, b := range bases {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objects(t, string(data)) {
			want[o.GetName()] = o.Object
		}
	}
	got := byKind(objects(t, mustRender(t, nil).manifest), "CustomResourceDefinition")
	if len(got) != len(want) {
		t.Fatalf("%d CRDs rendered, %d in config/crd/bases", len(got), len(want))
	}
	for _, crd := range got {
		if crd.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("%s: chart labels missing", crd.GetName())
		}
		ann := crd.GetAnnotations()
		if ann[chartcrds.KeepAnnotation] != "keep" {
			t.Errorf("%s: no %s: keep", crd.GetName(), chartcrds.KeepAnnotation)
		}
		delete(ann, chartcrds.KeepAnnotation)
		crd.SetAnnotations(ann)
		crd.SetLabels(nil)
		if !reflect.DeepEqual(crd.Object, want[crd.GetName()]) {
			t.Errorf("rendered CRD %s differs from config/crd/bases beyond labels and the keep annotation", crd.GetName())
		}
	}
	if none := byKind(objects(t, mustRender(t, map[string]any{"crds": map[string]any{"create": false}}).manifest),
		"CustomResourceDefinition"); len(none) != 0 {
		t.Errorf("crds.create=false still renders %d CRDs", len(none))
	}
}
