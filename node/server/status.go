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
	out := map[string]any{
		"draining": s.draining.Load(),
		"sockets":  len(s.hub.all()),
		"users":    s.deps.Users.Snapshot(),
	}
	if s.opts.Status != nil {
		for k, v := range s.opts.Status() {
			out[k] = v
		}
	}
	writeJSON(w, http.StatusOK, out)
}
