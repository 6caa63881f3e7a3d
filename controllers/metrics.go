package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// Operator metrics, served beside controller-runtime's (controller_runtime_reconcile_total,
// controller_runtime_reconcile_errors_total, workqueue_*) on the manager's metrics endpoint. The
// chart's PrometheusRule alerts on them.
var (
	metricMoves = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_operator_tenant_moves_total",
		Help: "Assignments of a tenant's WAL work to a node, by reason (Initial, OwnerDeleted, LeaseExpired, ...).",
	}, []string{"reason"})
	metricMoveSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "realtime_operator_tenant_move_duration_seconds",
		Help:    "From the old owner seen failing (deletion, readiness flip, lease expiry) to the new assignment.",
		Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120},
	})
	metricCondition = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "realtime_operator_tenant_condition",
		Help: "1 when the tenant's condition is True, 0 when False (absent when the tenant does not have it).",
	}, []string{"namespace", "tenant", "type"})
	metricSlotLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "realtime_operator_tenant_slot_lag_bytes",
		Help: "WAL retained by the tenant's replication slot, as last observed in its database.",
	}, []string{"namespace", "tenant"})
	metricSlotLimit = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "realtime_operator_tenant_slot_lag_limit_bytes",
		Help: "spec.database.maxSlotLag of the tenant.",
	}, []string{"namespace", "tenant"})
	metricClusterPods = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "realtime_operator_cluster_node_pods",
		Help: "Node pods of a RealtimeCluster: state=ready or desired.",
	}, []string{"namespace", "cluster", "state"})
)

func init() {
	metrics.Registry.MustRegister(metricMoves, metricMoveSeconds, metricCondition, metricSlotLag, metricSlotLimit, metricClusterPods)
}

var exportedConditions = []realtimev1.ConditionType{
	realtimev1.TenantReady, realtimev1.TenantAssigned, realtimev1.TenantOwnerLeaseHeld, realtimev1.TenantDatabaseReachable,
	realtimev1.TenantReplicationStreaming, realtimev1.TenantSlotLagWithinLimit,
}

// exportTenant publishes a tenant's conditions and slot figures.
func exportTenant(t *realtimev1.Tenant, st *realtimev1.TenantStatus) {
	for _, typ := range exportedConditions {
		c := meta.FindStatusCondition(st.Conditions, string(typ))
		if c == nil {
			metricCondition.DeleteLabelValues(t.Namespace, t.Name, string(typ))
			continue
		}
		v := 0.0
		if c.Status == "True" {
			v = 1
		}
		metricCondition.WithLabelValues(t.Namespace, t.Name, string(typ)).Set(v)
	}
	if r := st.Replication; r != nil && r.LagBytes != nil {
		metricSlotLag.WithLabelValues(t.Namespace, t.Name).Set(float64(*r.LagBytes))
		metricSlotLimit.WithLabelValues(t.Namespace, t.Name).Set(float64(t.MaxSlotLagBytes()))
	} else {
		metricSlotLag.DeleteLabelValues(t.Namespace, t.Name)
		metricSlotLimit.DeleteLabelValues(t.Namespace, t.Name)
	}
}

// forgetTenant drops a deleted tenant's series.
func forgetTenant(namespace, name string) {
	for _, typ := range exportedConditions {
		metricCondition.DeleteLabelValues(namespace, name, string(typ))
	}
	metricSlotLag.DeleteLabelValues(namespace, name)
	metricSlotLimit.DeleteLabelValues(namespace, name)
}
