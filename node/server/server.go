// Package server is the node's HTTP surface: WebSocket upgrade with the connect-time checks of
// docs/protocol.md#connect-checks, REST broadcast (#rest-batch-broadcast, #rest-single-broadcast),
// health, readiness, status and Prometheus metrics.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
)

// Options configure a Server.
type Options struct {
	// DefaultTenant serves requests whose Host does not name a known tenant (single-tenant setups).
	DefaultTenant string
	// ConnectBackoff delays every rejected upgrade (CONNECT_ERROR_BACKOFF_MS).
	ConnectBackoff time.Duration
	// DrainWindow spreads the 1012 closes of a shutdown over this long so reconnects don't stampede.
	DrainWindow time.Duration
	// Flush, when set, is waited for (bounded) before a drain closes sockets of a tenant (drain.go).
	Flush    FlushFunc
	Socket   socket.Options
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
	// Status adds sections to GET /status (e.g. replication slot lag).
	Status func() map[string]any
	// MetricsKeys, when set, protects /metrics as upstream does: a Bearer JWT signed with the
	// metrics secret (METRICS_JWT_SECRET), else 403 with an empty body.
	MetricsKeys *auth.KeySet
	// Inspector, when set, serves the inspector page on the client port (inspector.go).
	Inspector *InspectorOptions
	// TenantAPI configures GET /api/tenants/:id[/health] (tenantapi.go); nil: from the environment.
	TenantAPI *TenantAPIOptions
}

// Server serves one node.
type Server struct {
	opts      Options
	deps      *channel.Deps
	tenants   tenant.Registry
	keys      *keyCache
	hub       *hub
	polls     *pollSessions
	tenantAPI *tenantAPI
	draining  atomic.Bool
	log       *slog.Logger
	mux       *http.ServeMux

	// sockCtx ends every socket's goroutine when the server stops; sockets counts them.
	sockCtx     context.Context
	stopSockets context.CancelFunc
	sockets     sync.WaitGroup
}

// New builds the server. deps.ShuttingDown is wired to the server's drain state.
func New(deps *channel.Deps, opts Options) *Server {
	socketEnvDefaults(&opts.Socket)
	if deps.Metrics != nil && deps.Users != nil {
		deps.Metrics.BindUsers(deps.Users)
	}
	s := &Server{opts: opts, deps: deps, tenants: deps.Tenants, keys: newKeyCache(), hub: newHub(), polls: newPollSessions(), tenantAPI: newTenantAPI(opts.TenantAPI), log: opts.Log}
	s.sockCtx, s.stopSockets = context.WithCancel(context.Background())
	deps.ShuttingDown = s.draining.Load
	s.mux = s.routes()
	deps.Tenants.Subscribe(s.onTenantEvent)
	return s
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/realtime/v1"} {
		mux.HandleFunc("GET "+prefix+"/socket/websocket", s.handleSocket)
		mux.HandleFunc("GET "+prefix+"/websocket", s.handleSocket)
		mux.HandleFunc(prefix+"/socket/longpoll", s.handleLongPoll)
		mux.HandleFunc(prefix+"/longpoll", s.handleLongPoll)
		mux.HandleFunc("POST "+prefix+"/api/broadcast", s.cors(s.handleBatchBroadcast))
		mux.HandleFunc("POST "+prefix+"/api/broadcast/{topic}/events/{event}", s.cors(s.handleSingleBroadcast))
		mux.HandleFunc("OPTIONS "+prefix+"/api/", s.cors(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		mux.HandleFunc("GET "+prefix+"/api/ping", s.handlePing)
	}
	mux.HandleFunc("GET /healthcheck", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /readyz", s.handleReady)
	// /metrics and /status are on the admin listener only (admin.go): they name tenants, slots
	// and LSNs, and the client port is the one exposed to the internet. Here they answer 404.
	s.mountInspector(mux)
	s.mountTenantAPI(mux)
	return mux
}

// Handler returns the HTTP handler of the node.
func (s *Server) Handler() http.Handler { return s.mux }

// Serve serves on l until ctx ends, then drains: readiness flips first, new joins are refused,
// sockets get close code 1012 spread over the drain window, and the listener stops.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.hub.drain(s.opts.DrainWindow, s.opts.Flush, s.log)
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	s.stopSockets()
	s.sockets.Wait()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (s *Server) metricsAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys := s.opts.MetricsKeys
		if keys == nil {
			next.ServeHTTP(w, r)
			return
		}
		if _, err := keys.Verify(bearer(r.Header.Get("Authorization")), time.Now()); err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

// resolveTenant finds the tenant from the first label of Host (docs/protocol.md#tenant-from-host). The default tenant
// serves hosts that name no tenant at all (an IP address or a bare name such as localhost); a host
// like unknown.example.com names a tenant, and an unknown one is refused as upstream does.
func (s *Server) resolveTenant(r *http.Request) (*tenant.Tenant, bool) {
	if t, ok := s.tenants.Get(tenant.ExternalIDFromHost(r.Host)); ok {
		return t, true
	}
	if s.opts.DefaultTenant != "" && !namesTenant(r.Host) {
		return s.tenants.Get(s.opts.DefaultTenant)
	}
	return nil, false
}

func namesTenant(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	return net.ParseIP(host) == nil && strings.Contains(host, ".")
}
