package socket

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the socket-level Prometheus series.
type Metrics struct {
	Connected     prometheus.Gauge
	Users         prometheus.Gauge
	InputBytes    prometheus.Counter
	OutputBytes   prometheus.Counter
	Malformed     prometheus.Counter
	SlowConsumers prometheus.Counter
	WriteBatch    prometheus.Histogram
	// Per tenant (docs/protocol.md#metrics): sockets with at least one channel, and WebSocket/long-poll traffic.
	TenantUsers               *prometheus.GaugeVec
	TenantInput, TenantOutput *prometheus.CounterVec
}

// tenantSeries are one socket's per-tenant series, looked up once.
type tenantSeries struct {
	users   prometheus.Gauge
	in, out prometheus.Counter
}

func (m *Metrics) forTenant(t string) tenantSeries {
	return tenantSeries{users: m.TenantUsers.WithLabelValues(t), in: m.TenantInput.WithLabelValues(t), out: m.TenantOutput.WithLabelValues(t)}
}

// NewMetrics registers the socket metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Connected:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "phoenix_connections_active", Help: "Open WebSocket connections."}),
		Users:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "realtime_connections_global_connected", Help: "Sockets with at least one joined channel on this node."}),
		InputBytes:    prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_channel_global_input_bytes", Help: "Bytes received from clients."}),
		OutputBytes:   prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_channel_global_output_bytes", Help: "Bytes sent to clients."}),
		Malformed:     prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_malformed_messages_total", Help: "Undecodable client frames dropped."}),
		SlowConsumers: prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_slow_consumer_disconnects_total", Help: "Clients disconnected because their outbound queue overflowed."}),
		WriteBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "realtime_socket_write_batch_frames", Help: "Frames written per syscall.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
	}
	m.TenantUsers = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "realtime_connections_connected",
		Help: "Sockets with at least one joined channel on this node, per tenant."}, []string{"tenant"})
	m.TenantInput = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_channel_input_bytes",
		Help: "Bytes received from clients, per tenant."}, []string{"tenant"})
	m.TenantOutput = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realtime_channel_output_bytes",
		Help: "Bytes sent to clients, per tenant."}, []string{"tenant"})
	reg.MustRegister(m.Connected, m.Users, m.InputBytes, m.OutputBytes, m.Malformed, m.SlowConsumers, m.WriteBatch,
		m.TenantUsers, m.TenantInput, m.TenantOutput)
	return m
}
