package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/socket"
)

// connectError is a rejected upgrade: plain HTTP with {"error": message} (docs/protocol.md#connect-checks).
type connectError struct {
	status  int
	message string
	code    string // log code
}

// handleSocket runs the connect-time checks of docs/protocol.md#connect-checks in order, then upgrades.
func (s *Server) handleSocket(w http.ResponseWriter, r *http.Request) {
	vsn, ok := parseVsn(r.URL.Query().Get("vsn"))
	if !ok {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	params, cerr := s.admit(r)
	if cerr != nil {
		s.log.Info("websocket connect refused", "code", cerr.code, "host", r.Host, "status", cerr.status)
		time.Sleep(s.opts.ConnectBackoff)
		writeJSON(w, cerr.status, map[string]string{"error": cerr.message})
		return
	}
	params.Version = vsn
	lv, present := r.URL.Query()["log_level"]
	if present && len(lv) > 0 {
		params.LogLevel, params.LogLevelSet = socket.ParseLogLevel(lv[0], true)
	}
	sock, err := socket.Accept(w, r, params, s.deps, &s.opts.Socket)
	if err != nil {
		s.log.Info("websocket upgrade failed", "err", err)
		return
	}
	// The socket gets its own goroutine and the handler returns: net/http keeps its 4 KiB read and
	// write buffers and the request alive for as long as a handler runs, which would cost every idle
	// connection ~10 KiB it never uses. The server owns the goroutine (sockets, stopSockets).
	id := params.Tenant.ExternalID
	s.hub.add(id, sock)
	s.sockets.Add(1)
	go func() {
		defer s.sockets.Done()
		defer s.hub.remove(id, sock)
		sock.Serve(s.sockCtx)
	}()
}

func (s *Server) admit(r *http.Request) (socket.Params, *connectError) {
	// A draining node takes no new connections: it is leaving the Service, and a socket opened
	// now would only have its joins refused until the drain closes it (realtime-js, reconnecting
	// to a pod's own address after a 1012, otherwise sat in a join-refused loop for the whole
	// drain window). Refused here, the client backs off and reconnects elsewhere.
	if s.draining.Load() {
		return socket.Params{}, &connectError{http.StatusServiceUnavailable, "Realtime is restarting, please standby", "RealtimeRestarting"}
	}
	t, ok := s.resolveTenant(r)
	if !ok {
		return socket.Params{}, &connectError{http.StatusNotFound, "Tenant not found", "TenantNotFound"}
	}
	if t.Suspend {
		return socket.Params{}, &connectError{http.StatusForbidden, "Realtime was disabled for this tenant", "RealtimeDisabledForTenant"}
	}
	token := r.Header.Get("x-api-key")
	if token == "" {
		token = r.URL.Query().Get("apikey")
	}
	if token == "" {
		return socket.Params{}, &connectError{http.StatusUnauthorized, "API key is missing", "MissingAPIKey"}
	}
	keys, err := s.keys.get(t)
	if err != nil {
		return socket.Params{}, &connectError{http.StatusUnauthorized, "Failed to generate JWT signer, check your JWT secret or JWKS configuration", "InvalidJWTToken"}
	}
	if _, err := keys.VerifyConn(token, time.Now()); err != nil {
		var ae *auth.Error
		if errors.As(err, &ae) {
			status, msg := ae.ConnectStatus()
			return socket.Params{}, &connectError{status, msg, ae.Code()}
		}
		return socket.Params{}, &connectError{http.StatusInternalServerError, "Error connecting to Realtime", "ErrorConnectingToWebsocket"}
	}
	limits := t.Limits.Defaulted()
	if s.deps.Users.Total(t.ExternalID) >= limits.MaxConcurrentUsers {
		return socket.Params{}, &connectError{http.StatusTooManyRequests, "Too many connected users", "ConnectionRateLimitReached"}
	}
	if s.deps.Rates.Counter(t.ExternalID, limiter.Joins).Triggered() {
		return socket.Params{}, &connectError{http.StatusTooManyRequests, "Too many joins per second", "JoinsRateLimitReached"}
	}
	return socket.Params{Tenant: t, KeySet: keys, Token: token, Headers: xHeaders(r.Header)}, nil
}

// parseVsn accepts ~> 1.0.0 and ~> 2.0.0 (1.0.x / 2.0.x); missing means 1.0.0.
func parseVsn(v string) (phoenix.Version, bool) {
	switch {
	case v == "":
		return phoenix.V1, true
	case v == "1.0.0" || strings.HasPrefix(v, "1.0."):
		return phoenix.V1, true
	case v == "2.0.0" || strings.HasPrefix(v, "2.0."):
		return phoenix.V2, true
	}
	return 0, false
}

// xHeaders keeps the request headers whose names start with x- (exposed to RLS policies).
func xHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-") && lk != "x-api-key" && len(v) > 0 {
			out[lk] = v[0]
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
