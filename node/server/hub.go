package server

import (
	"bytes"
	"sync"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
)

// hub knows every socket by tenant, for tenant-wide disconnects and for draining.
type hub struct {
	mu      sync.Mutex
	sockets map[string]map[*socket.Socket]struct{}
}

func newHub() *hub { return &hub{sockets: map[string]map[*socket.Socket]struct{}{}} }

func (h *hub) add(tenant string, s *socket.Socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sockets[tenant] == nil {
		h.sockets[tenant] = map[*socket.Socket]struct{}{}
	}
	h.sockets[tenant][s] = struct{}{}
}

func (h *hub) remove(tenant string, s *socket.Socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sockets[tenant], s)
	if len(h.sockets[tenant]) == 0 {
		delete(h.sockets, tenant)
	}
}

func (h *hub) list(tenant string) []*socket.Socket {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*socket.Socket, 0, len(h.sockets[tenant]))
	for s := range h.sockets[tenant] {
		out = append(out, s)
	}
	return out
}

func (h *hub) all() []*socket.Socket {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*socket.Socket
	for _, set := range h.sockets {
		for s := range set {
			out = append(out, s)
		}
	}
	return out
}

// disconnectTenant tells every joined channel of the tenant "Server requested disconnect" and closes
// its sockets with 1012 (docs/protocol.md#socket-lifecycle); realtime-js reconnects with the new configuration.
func (h *hub) disconnectTenant(tenant string) {
	for _, s := range h.list(tenant) {
		for _, ch := range s.Channels() {
			ch.Notice(`{"extension":"system","status":"ok","message":"Server requested disconnect"}`)
		}
		s.Close(websocket.StatusServiceRestart, "tenant configuration changed")
	}
}

// onTenantEvent disconnects a tenant's sockets when it is deleted or a change invalidates them
// (JWT secret or keys, private_only, suspend), keeping other tenants' connections.
func (s *Server) onTenantEvent(e tenant.Event) {
	id := ""
	switch {
	case e.Old != nil:
		id = e.Old.ExternalID
	case e.New != nil:
		id = e.New.ExternalID
	}
	s.keys.forget(id)
	if e.Old == nil {
		return
	}
	if e.New == nil || !bytes.Equal(e.Old.JWTSecret, e.New.JWTSecret) || !bytes.Equal(e.Old.JWKS, e.New.JWKS) ||
		e.Old.PrivateOnly != e.New.PrivateOnly || e.Old.Suspend != e.New.Suspend {
		s.log.Info("tenant changed, disconnecting its sockets", "tenant", id)
		s.hub.disconnectTenant(id)
	}
}
