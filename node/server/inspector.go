package server

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/realtimeops/realtime/node/inspector"
	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
)

// InspectorOptions turn on the inspector page (GET /inspector, node/inspector) on the client
// port. It is never open: a tenant JWT or the admin token opens a session.
type InspectorOptions struct {
	// AdminToken opens the node-wide view; empty allows tenant sessions only.
	AdminToken string
	// Node names this node in the page (name, region).
	Node map[string]string
	// RecentErrors, when set, holds the node's last WARN/ERROR log records for the node view
	// (wrap the node's log handler with it).
	RecentErrors *inspector.RecentErrors
}

// mountInspector adds /inspector when Options.Inspector is set; without it the path is a 404.
func (s *Server) mountInspector(mux *http.ServeMux) {
	o := s.opts.Inspector
	if o == nil {
		return
	}
	h, err := inspector.New(inspector.Options{
		AdminToken: o.AdminToken, Node: o.Node, Log: s.log, RecentErrors: o.RecentErrors,
		Status: s.statusData, VerifyTenant: s.verifyInspectorToken,
		HostTenant: func(r *http.Request) string {
			if t, ok := s.resolveTenant(r); ok {
				return t.ExternalID
			}
			return ""
		},
	})
	if err != nil {
		s.log.Error("inspector not served", "err", err)
		return
	}
	mux.Handle(inspector.Path, h)
	mux.Handle(inspector.Path+"/", h)
}

// verifyInspectorToken checks a pasted JWT the way the socket checks its connect token, for the
// named tenant or, when none is named, the tenant the Host selects.
func (s *Server) verifyInspectorToken(r *http.Request, id, token string) (string, time.Time, error) {
	var t *tenant.Tenant
	var ok bool
	if id != "" {
		t, ok = s.tenants.Get(id)
	} else {
		t, ok = s.resolveTenant(r)
	}
	if !ok {
		return "", time.Time{}, errors.New("tenant not found")
	}
	keys, err := s.keys.get(t)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tenant %s keys: %w", t.ExternalID, err)
	}
	claims, err := keys.VerifyConn(token, time.Now())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tenant %s: %w", t.ExternalID, err)
	}
	exp, _ := claims.Exp()
	return t.ExternalID, time.Unix(exp, 0), nil
}

// TenantSockets is one tenant's share of this node's connections, for /status.
type TenantSockets struct {
	Tenant   string `json:"tenant"`
	Sockets  int    `json:"sockets"`
	Channels int    `json:"channels"`
}

// perTenant counts sockets and joined channels per tenant, sorted by tenant. Sockets are read
// after the hub's lock is released, so the hub never holds a socket's lock.
func (h *hub) perTenant() []TenantSockets {
	h.mu.Lock()
	byTenant := make(map[string][]*socket.Socket, len(h.sockets))
	for id, set := range h.sockets {
		for sock := range set {
			byTenant[id] = append(byTenant[id], sock)
		}
	}
	h.mu.Unlock()
	out := make([]TenantSockets, 0, len(byTenant))
	for id, socks := range byTenant {
		ts := TenantSockets{Tenant: id, Sockets: len(socks)}
		for _, sock := range socks {
			ts.Channels += len(sock.Channels())
		}
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tenant < out[j].Tenant })
	return out
}
