package channel

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the channel-level Prometheus series (docs/protocol.md#metrics names).
type Metrics struct {
	Joins          *prometheus.CounterVec // tenant
	JoinResults    *prometheus.CounterVec // result
	Events         *prometheus.CounterVec // tenant
	PresenceEvents *prometheus.CounterVec // tenant
	DBEvents       *prometheus.CounterVec // tenant
	Errors         *prometheus.CounterVec // tenant, code
	PayloadSize    *prometheus.HistogramVec
	// Latencies in milliseconds, upstream's realtime_tenants_* distributions
	// (lib/realtime/monitoring/prom_ex/plugins/tenant.ex).
	ReadAuthz, WriteAuthz *prometheus.HistogramVec // tenant
	Replay                *prometheus.HistogramVec // tenant
	// DBBroadcastInserted: database broadcast latency from the row's inserted_at until the node
	// has it.
	DBBroadcastInserted *prometheus.HistogramVec // tenant
	// DBBroadcastCommitted: the same broadcast's latency from its transaction's commit.
	DBBroadcastCommitted *prometheus.HistogramVec // tenant

	cluster *usersCollector
}

// usersCollector exports realtime_connections_connected_cluster{tenant}: the cluster-wide count of
// sockets with a channel, for the tenants this node has sockets of (upstream's
// execute_tenant_metrics in prom_ex/plugins/tenant.ex iterates the local tenants the same way).
type usersCollector struct {
	users atomic.Pointer[Users]
	desc  *prometheus.Desc
}

func (c *usersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *usersCollector) Collect(ch chan<- prometheus.Metric) {
	u := c.users.Load()
	if u == nil {
		return
	}
	for t := range u.Snapshot() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(u.Total(t)), t)
	}
}

// BindUsers makes realtime_connections_connected_cluster report u's counts.
func (m *Metrics) BindUsers(u *Users) { m.cluster.users.Store(u) }

// latencyBuckets (ms) cover a local query (1 ms) to a slow remote database (15 s).
var latencyBuckets = []float64{1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 15000}

func latency(name, help string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, []string{"tenant"})
}

// observeSince records the milliseconds since start.
func observeSince(h *prometheus.HistogramVec, tenant string, start time.Time) {
	h.WithLabelValues(tenant).Observe(float64(time.Since(start).Microseconds()) / 1000)
}

// ObserveDBBroadcast records a database broadcast's latency since its row's inserted_at and
// since its transaction committed (upstream: replication_connection.ex, latency_committed_at).
func (m *Metrics) ObserveDBBroadcast(tenant string, insertedAt, committedAt time.Time) {
	observeSince(m.DBBroadcastInserted, tenant, insertedAt)
	if !committedAt.IsZero() {
		observeSince(m.DBBroadcastCommitted, tenant, committedAt)
	}
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
	m.ReadAuthz = latency("realtime_tenants_read_authorization_check", "Latency of read authorization checks (ms).")
	m.WriteAuthz = latency("realtime_tenants_write_authorization_check", "Latency of write authorization checks (ms).")
	m.Replay = latency("realtime_tenants_replay", "Latency of broadcast replay (ms).")
	m.DBBroadcastInserted = latency("realtime_tenants_broadcast_from_database_latency_inserted_at",
		"Latency from the message's inserted_at until the node has the broadcast (ms).")
	m.DBBroadcastCommitted = latency("realtime_tenants_broadcast_from_database_latency_committed_at",
		"Latency from the message's transaction commit until the node has the broadcast (ms).")
	m.cluster = &usersCollector{desc: prometheus.NewDesc("realtime_connections_connected_cluster",
		"Sockets with at least one joined channel in the whole cluster, per tenant.", []string{"tenant"}, nil)}
	reg.MustRegister(m.cluster)
	reg.MustRegister(m.Joins, m.JoinResults, m.Events, m.PresenceEvents, m.DBEvents, m.Errors, m.PayloadSize,
		m.ReadAuthz, m.WriteAuthz, m.Replay, m.DBBroadcastInserted, m.DBBroadcastCommitted)
	return m
}
