package controllers

import (
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// gauge reads one series of the operator's registry (nil when absent).
func gauge(t *testing.T, name string, labels map[string]string) *float64 {
	t.Helper()
	fams, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, labels) {
				v := m.GetGauge().GetValue()
				return &v
			}
		}
	}
	return nil
}

func matches(m *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := labels[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}

// The alerts read these series: a tenant's conditions and a cluster's pod counts.
func TestOperatorMetricsFollowStatus(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-0", true)
	mustCreate(t, testTenant(ns, "metered", "rt", "eu-west"))
	checkFor(t, 20*time.Second, func() error {
		a := gauge(t, "realtime_operator_tenant_condition", map[string]string{"namespace": ns, "tenant": "metered", "type": "Assigned"})
		r := gauge(t, "realtime_operator_tenant_condition", map[string]string{"namespace": ns, "tenant": "metered", "type": "Ready"})
		p := gauge(t, "realtime_operator_cluster_node_pods", map[string]string{"namespace": ns, "cluster": "rt", "state": "ready"})
		if a == nil || *a != 1 || r == nil || *r != 0 || p == nil || *p != 1 {
			return fmt.Errorf("assigned %v ready %v ready pods %v", a, r, p)
		}
		return nil
	})
}
