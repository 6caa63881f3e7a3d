package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// AdminHandler serves the node's operator-facing endpoints on their own listener (--admin-addr):
// Prometheus metrics and the status JSON, which name tenants, replication slots and LSNs, plus
// the health probes so one port is enough for monitoring. The client Service never exposes it;
// the client handler (Handler) answers 404 for these paths.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	gatherer := s.opts.Gatherer
	if gatherer == nil {
		gatherer = prometheus.DefaultGatherer
	}
	mux.Handle("GET /metrics", s.metricsAuth(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})))
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /readyz", s.handleReady)
	// The pod's preStop hook: readiness fails and new joins are refused at once, so the pod
	// leaves the Service endpoints while the kubelet sends SIGTERM, which drains the sockets.
	mux.HandleFunc("GET /drain", func(w http.ResponseWriter, _ *http.Request) {
		s.draining.Store(true)
		_, _ = w.Write([]byte("draining"))
	})
	return mux
}
