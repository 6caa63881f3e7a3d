package channel

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// realtime_connections_connected_cluster adds the other nodes' counts to this node's.
func TestConnectedClusterGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	u := NewUsers(func(tenant string) int { return map[string]int{"a": 2}[tenant] })
	u.Add("a", 1)
	u.Add("b", 1)
	m.BindUsers(u)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "realtime_connections_connected_cluster" {
			continue
		}
		for _, mt := range f.GetMetric() {
			got[mt.GetLabel()[0].GetValue()] = mt.GetGauge().GetValue()
		}
	}
	if got["a"] != 3 || got["b"] != 1 || len(got) != 2 {
		t.Fatalf("connected_cluster = %v", got)
	}
}
