package changes

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	decoded, delivered, duplicates, restarts, rlsQueries, broadcasts prometheus.Counter
	lag                                                              *prometheus.GaugeVec
	ownership                                                        *prometheus.CounterVec
	rlsSeconds, rlsWaitSeconds                                       prometheus.Histogram
	rlsInconclusive                                                  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		decoded: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_changes_decoded_total",
			Help: "Row changes decoded from tenant replication slots."}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_changes_delivered_total",
			Help: "postgres_changes messages handed to subscribers."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_changes_duplicates_total",
			Help: "Changes resent by a slot after a stream restart that this process had already delivered (skipped)."}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_changes_stream_restarts_total",
			Help: "Replication stream failures followed by a reconnect."}),
		rlsQueries: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_changes_rls_queries_total",
			Help: "Batched RLS visibility queries (one per relation, role and claims group per batch)."}),
		broadcasts: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_changes_db_broadcasts_total",
			Help: "realtime.messages inserts handed to the broadcast sink."}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "realtime_replication_slot_lag_bytes",
			Help: "Server WAL end minus the slot position confirmed by this node."}, []string{"tenant"}),
		ownership: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_changes_ownership_changes_total",
			Help: "Tenant WAL streams this node started (acquired) or stopped (released)."}, []string{"change"}),
		rlsSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "realtime_changes_rls_check_seconds",
			Help: "Duration of the RLS checks of one batch.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		rlsWaitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "realtime_postgres_changes_rls_visibility_wait_seconds",
			Help:    "Time an RLS check waited for a streamed commit to become visible to new snapshots (only batches that had to wait).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		rlsInconclusive: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_postgres_changes_rls_inconclusive_total",
			Help: "Row changes whose RLS check could not decide and which were not delivered to that group of subscribers (reason: policy_error: the policy raised or the role lacks a privilege)."},
			[]string{"reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.decoded, m.delivered, m.duplicates, m.restarts,
			m.rlsQueries, m.broadcasts, m.lag, m.ownership, m.rlsSeconds, m.rlsWaitSeconds, m.rlsInconclusive} {
			reg.MustRegister(c)
		}
	}
	return m
}
