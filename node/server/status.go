package server

import (
	"net/http"
)

func (s *Server) handlePing(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.resolveTenant(r); !ok {
		writeJSON(w, http.StatusNotFound, message("Tenant not found"))
		return
	}
	writeJSON(w, http.StatusOK, message("Success"))
}

// handleStatus reports node state as JSON: draining, sockets, plus sections from Options.Status.
func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.statusData())
}

// statusData is the /status document: draining, sockets (and per tenant, with their channels),
// users per tenant, plus the sections of Options.Status. The inspector's node view shows it.
func (s *Server) statusData() map[string]any {
	out := map[string]any{
		"draining": s.draining.Load(),
		"sockets":  len(s.hub.all()),
		"tenants":  s.hub.perTenant(),
		"users":    s.deps.Users.Snapshot(),
	}
	if s.opts.Status != nil {
		for k, v := range s.opts.Status() {
			out[k] = v
		}
	}
	return out
}
