package channel

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the channel-level Prometheus series (spec 9.2 names).
type Metrics struct {
	Joins          *prometheus.CounterVec // tenant
	JoinResults    *prometheus.CounterVec // result
	Events         *prometheus.CounterVec // tenant
	PresenceEvents *prometheus.CounterVec // tenant
	DBEvents       *prometheus.CounterVec // tenant
	Errors         *prometheus.CounterVec // tenant, code
	PayloadSize    *prometheus.HistogramVec
}

// NewMetrics registers the channel metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Joins:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_channel_joins", Help: "Join attempts counted by the joins limiter."}, []string{"tenant"}),
		JoinResults:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "phoenix_channel_joined_total", Help: "Channel joins by result."}, []string{"result"}),
		Events:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_channel_events", Help: "Broadcast events sent and delivered."}, []string{"tenant"}),
		PresenceEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_channel_presence_events", Help: "Presence events."}, []string{"tenant"}),
		DBEvents:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_channel_db_events", Help: "Postgres Changes deliveries."}, []string{"tenant"}),
		Errors:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_channel_error", Help: "Error-level channel logs by code."}, []string{"tenant", "code"}),
		PayloadSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "realtime_tenants_payload_size", Help: "Message payload sizes in bytes.",
			Buckets: prometheus.ExponentialBuckets(64, 4, 9)}, []string{"tenant", "message_type"}),
	}
	reg.MustRegister(m.Joins, m.JoinResults, m.Events, m.PresenceEvents, m.DBEvents, m.Errors, m.PayloadSize)
	return m
}
