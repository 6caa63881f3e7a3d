package server

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/tenant"
)

// Read-only management endpoints of upstream's tenant API (lib/realtime_web/router.ex scope
// "/api", TenantController.show/2 and health/2): GET /api/tenants/:external_id and
// GET /api/tenants/:external_id/health, behind the management JWT (Authorization: Bearer, HS256
// with API_JWT_SECRET or API_JWT_SECRET_NEXT, tokens in API_TOKEN_BLOCKLIST refused; any failure:
// 403 with an empty body). There is no write API: tenants are the Tenant resources or the
// tenants file, which the node watches (README).

// TenantAPIOptions configure the management endpoints. Zero values are read from upstream's
// environment variables (API_JWT_SECRET, API_JWT_SECRET_NEXT, API_TOKEN_BLOCKLIST, POD_NAME or the
// host name, REGION).
type TenantAPIOptions struct {
	Secrets   [][]byte
	Blocklist []string
	Node      string
	Region    string
}

type tenantAPI struct {
	keys      []*auth.KeySet
	blocklist []string
	node      string
	region    string
}

func newTenantAPI(o *TenantAPIOptions) *tenantAPI {
	if o == nil {
		o = &TenantAPIOptions{}
	}
	a := &tenantAPI{blocklist: o.Blocklist, node: o.Node, region: o.Region}
	secrets := o.Secrets
	if secrets == nil {
		for _, env := range []string{"API_JWT_SECRET", "API_JWT_SECRET_NEXT"} {
			if v := os.Getenv(env); v != "" {
				secrets = append(secrets, []byte(v))
			}
		}
	}
	for _, sec := range secrets {
		if ks, err := auth.NewKeySet(sec, nil); err == nil {
			a.keys = append(a.keys, ks)
		}
	}
	if a.blocklist == nil && os.Getenv("API_TOKEN_BLOCKLIST") != "" {
		a.blocklist = strings.Split(os.Getenv("API_TOKEN_BLOCKLIST"), ",")
	}
	if a.node == "" {
		a.node = os.Getenv("POD_NAME")
	}
	if a.node == "" {
		a.node, _ = os.Hostname()
	}
	if a.region == "" {
		a.region = os.Getenv("REGION")
	}
	return a
}

// authorized verifies the management JWT (docs/protocol.md#jwt-verification steps 1-5, no role or exp requirement).
func (a *tenantAPI) authorized(r *http.Request) bool {
	tok := bearer(r.Header.Get("Authorization"))
	if tok == "" || slices.Contains(a.blocklist, tok) {
		return false
	}
	for _, ks := range a.keys {
		if _, err := ks.Verify(tok, time.Now()); err == nil {
			return true
		}
	}
	return false
}

func (s *Server) mountTenantAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/tenants/{id}", s.tenantAPIHandler(s.handleTenantShow))
	mux.HandleFunc("GET /api/tenants/{id}/health", s.tenantAPIHandler(s.handleTenantHealth))
}

func (s *Server) tenantAPIHandler(next func(http.ResponseWriter, *http.Request, *tenant.Tenant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.tenantAPI.authorized(r) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		t, ok := s.tenants.Get(r.PathValue("id"))
		if !ok {
			writeJSON(w, http.StatusNotFound, message("not found"))
			return
		}
		next(w, r, t)
	}
}

// pinger checks that the tenant database answers (channeldb.Access).
type pinger interface {
	Ping(ctx context.Context, t *tenant.Tenant) error
}

// tenantHealth is upstream's Tenants.health_check/1 response (lib/realtime/tenants.ex).
type tenantHealth struct {
	Healthy              bool   `json:"healthy"`
	DBConnected          bool   `json:"db_connected"`
	ReplicationConnected bool   `json:"replication_connected"`
	ConnectedCluster     int    `json:"connected_cluster"`
	Region               string `json:"region"`
	Node                 string `json:"node"`
}

// handleTenantHealth: healthy when the tenant database answers (replication_connected then says
// whether its stream is up); when it does not, unhealthy. Upstream, a tenant whose connection is
// merely not started yet and has no users counts as healthy if no migrations are pending; here the
// check connects, so "not connected" means unreachable. A tenant without a database (Broadcast
// and Presence only) is healthy with db_connected false.
func (s *Server) handleTenantHealth(w http.ResponseWriter, r *http.Request, t *tenant.Tenant) {
	h := tenantHealth{ConnectedCluster: s.deps.Users.Total(t.ExternalID), Region: s.tenantAPI.region, Node: s.tenantAPI.node}
	switch {
	case t.Database == nil:
		h.Healthy = true
	case s.deps.Database == nil:
	default:
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if p, ok := s.deps.Database.(pinger); ok {
			h.DBConnected = p.Ping(ctx, t) == nil
		} else {
			h.DBConnected = s.deps.Database.Ready(ctx, t) == nil
		}
		h.Healthy = h.DBConnected
	}
	rep := s.deps.Replication
	if rep == nil {
		rep, _ = s.deps.Changes.(channel.Replication)
	}
	if rep != nil && h.DBConnected {
		h.ReplicationConnected, _ = rep.ReplicationReady(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": h})
}

// handleTenantShow renders the tenant like upstream's tenant_view.ex, without secrets: no JWT
// secret or keys and no database password (upstream drops db_password and returns the other
// secrets encrypted; here nothing secret leaves the node).
func (s *Server) handleTenantShow(w http.ResponseWriter, _ *http.Request, t *tenant.Tenant) {
	l := t.Limits.Defaulted()
	out := map[string]any{
		"external_id": t.ExternalID, "name": t.Name, "suspend": t.Suspend,
		"max_concurrent_users": l.MaxConcurrentUsers, "max_channels_per_client": l.MaxChannelsPerClient,
		"max_events_per_second": l.MaxEventsPerSecond, "max_joins_per_second": l.MaxJoinsPerSecond,
		"max_presence_events_per_second": l.MaxPresenceEventsPerSecond, "max_payload_size_in_kb": l.MaxPayloadSizeKB,
		"max_bytes_per_second": l.MaxBytesPerSecond, "private_only": t.PrivateOnly,
		"max_client_presence_events_per_window": l.MaxClientPresenceEventsPerWindow,
		"client_presence_window_ms":             l.ClientPresenceWindowMS, "presence_enabled": t.PresenceEnabled,
		"extensions": []any{},
	}
	if db := t.Database; db != nil {
		out["extensions"] = []any{map[string]any{"type": "postgres_cdc_rls", "settings": map[string]any{
			"region": db.Region, "db_host": db.Host, "db_port": db.Port, "db_name": db.Name, "db_user": db.User,
			"ssl_mode": db.SSLMode, "postgres_changes": t.PostgresChanges,
		}}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}
