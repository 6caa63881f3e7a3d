package helm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The monitoring objects render when enabled, the PodMonitor scrapes the nodes' admin port,
// the PrometheusRule carries every alert of files/alerts.yaml, each of which docs/operations.md
// explains, and the dashboard is valid JSON.
func TestMonitoringRender(t *testing.T) {
	objs := objects(t, mustRender(t, map[string]any{"monitoring": map[string]any{
		"labels":           map[string]any{"release": "prom"},
		"podMonitor":       map[string]any{"enabled": true},
		"prometheusRule":   map[string]any{"enabled": true},
		"grafanaDashboard": map[string]any{"enabled": true},
	}}).manifest)
	pm := byKind(objs, "PodMonitor")
	if len(pm) != 1 || pm[0].GetLabels()["release"] != "prom" {
		t.Fatalf("PodMonitor %v", pm)
	}
	eps, _, _ := unstructured.NestedSlice(pm[0].Object, "spec", "podMetricsEndpoints")
	if len(eps) != 1 || eps[0].(map[string]any)["port"] != "admin" {
		t.Errorf("podMetricsEndpoints %v", eps)
	}
	rules := byKind(objs, "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules", len(rules))
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	var alerts []string
	for _, g := range groups {
		rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rs {
			alerts = append(alerts, r.(map[string]any)["alert"].(string))
		}
	}
	if len(alerts) < 6 {
		t.Fatalf("alerts %v", alerts)
	}
	docs, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if !strings.Contains(string(docs), a) {
			t.Errorf("alert %s is not explained in docs/operations.md", a)
		}
	}
	cms := byKind(objs, "ConfigMap")
	if len(cms) != 1 {
		t.Fatalf("%d ConfigMaps", len(cms))
	}
	data, _, _ := unstructured.NestedString(cms[0].Object, "data", "realtime.json")
	var dash map[string]any
	if err := json.Unmarshal([]byte(data), &dash); err != nil || dash["panels"] == nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	// Off by default.
	for _, kind := range []string{"PodMonitor", "PrometheusRule", "ConfigMap"} {
		if n := len(byKind(objects(t, mustRender(t, nil).manifest), kind)); n != 0 {
			t.Errorf("%d %s by default", n, kind)
		}
	}
}

// files/alerts.yaml is a plain list of rule groups (what promtool check rules reads once
// wrapped in "groups:").
func TestAlertsFileShape(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir, "files", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert, Expr, For string
		} `json:"rules"`
	}
	if err := yaml.Unmarshal(data, &groups); err != nil || len(groups) == 0 {
		t.Fatalf("alerts.yaml: %v", err)
	}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.For == "" {
				t.Errorf("incomplete rule %+v", r)
			}
		}
	}
}
