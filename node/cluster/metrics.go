package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
)

// meshMetrics are the link-level metrics (docs/protocol.md#metrics says keep realtime_* names).
type meshMetrics struct {
	sent, received, bytesSent prometheus.Counter
	droppedFull, droppedPeer  prometheus.Counter
	reconnects, authFailures  prometheus.Counter
	forwardedLocal            prometheus.Counter
	forwardedRegion           prometheus.Counter
}

func newMeshMetrics(m *Mesh, reg prometheus.Registerer) *meshMetrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "realtime_cluster_" + name, Help: help})
	}
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_cluster_messages_dropped_total",
		Help: "Messages not sent to a peer: its send queue was full, or the peer is unknown.",
	}, []string{"reason"})
	forwarded := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_cluster_messages_forwarded_total",
		Help: "Broadcast envelopes sent by the Bus, by the hop the receiver gets (local, region).",
	}, []string{"hop"})
	mm := &meshMetrics{
		sent:            counter("messages_sent_total", "Frames written to links (pings excluded)."),
		received:        counter("messages_received_total", "Frames received from links and dispatched."),
		bytesSent:       counter("bytes_sent_total", "Payload bytes written to links."),
		droppedFull:     dropped.WithLabelValues("queue_full"),
		droppedPeer:     dropped.WithLabelValues("unknown_peer"),
		reconnects:      counter("link_reconnects_total", "Links re-established to a peer that had one before."),
		authFailures:    counter("link_auth_failures_total", "Connections refused because a side failed the secret handshake."),
		forwardedLocal:  forwarded.WithLabelValues("local"),
		forwardedRegion: forwarded.WithLabelValues("region"),
	}
	if reg != nil {
		reg.MustRegister(mm.sent, mm.received, mm.bytesSent, dropped, mm.reconnects, mm.authFailures,
			forwarded, &meshCollector{m: m})
	}
	return mm
}

// meshCollector reads peer count and queue depths at scrape time rather than updating gauges
// on every Send.
type meshCollector struct{ m *Mesh }

var (
	descPeers = prometheus.NewDesc("realtime_cluster_peers",
		"Peers with an authenticated link.", nil, nil)
	descQueue = prometheus.NewDesc("realtime_cluster_link_queue_depth",
		"Frames waiting in a peer's send queue.", []string{"peer"}, nil)
)

func (c *meshCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descPeers; ch <- descQueue }

func (c *meshCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	up := 0
	depths := make(map[string]int, len(c.m.peers))
	for name, p := range c.m.peers {
		if p.link != nil {
			up++
		}
		depths[name] = p.q.depth()
	}
	c.m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(up))
	for name, d := range depths {
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(d), name)
	}
}
