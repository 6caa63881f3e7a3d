// Package inspector serves the node's inspector page (GET /inspector): a single page, embedded
// in the binary, that joins channels with the node's own WebSocket protocol like any client and
// shows broadcasts, presence and database changes as they arrive, plus a node-wide view of the
// /status data for operators.
//
// The page is never open: without a session it answers 401 with a login form. A session is a
// signed cookie, made by POST /inspector/login from either a JWT that verifies for a tenant
// (tenant session) or the node's admin token (admin session). Only admin sessions, or requests
// carrying the admin token as a Bearer header, read the node-wide status.
package inspector

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// MinAdminToken is the shortest accepted admin token: it guards node-wide data and is compared on
// every login, so it must not be guessable.
const MinAdminToken = 16

// Path is where the page is mounted.
const Path = "/inspector"

// Options configure the inspector.
type Options struct {
	// AdminToken opens admin sessions (node-wide view); empty means tenant sessions only.
	AdminToken string
	// VerifyTenant checks a tenant JWT for the tenant named by tenantID, or, when tenantID is
	// empty, for the tenant the request's Host selects. It returns the tenant's id and the
	// token's expiry.
	VerifyTenant func(r *http.Request, tenantID, token string) (tenant string, exp time.Time, err error)
	// HostTenant names the tenant the request's Host selects ("" when none), so the page knows
	// when its own origin reaches the tenant it inspects.
	HostTenant func(r *http.Request) string
	// Status returns the node's /status data for the node-wide view.
	Status func() map[string]any
	// RecentErrors, when set, lists the node's last WARN and ERROR log records in the node view.
	RecentErrors *RecentErrors
	// Node describes this node in the page header (name, region).
	Node map[string]string
	Log  *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Handler serves everything under /inspector.
type Handler struct {
	opts     Options
	sessions *sessions
	mux      *http.ServeMux
	static   fs.FS
}

// New returns the inspector's handler; mount it at Path and Path+"/".
func New(opts Options) (*Handler, error) {
	if opts.AdminToken != "" && len(opts.AdminToken) < MinAdminToken {
		return nil, fmt.Errorf("inspector: the admin token must have at least %d characters", MinAdminToken)
	}
	if opts.VerifyTenant == nil || opts.Status == nil {
		return nil, errors.New("inspector: VerifyTenant and Status are required")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sess, err := newSessions(opts.Now)
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("inspector assets: %w", err)
	}
	h := &Handler{opts: opts, sessions: sess, static: static}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, h.page)
	mux.HandleFunc("GET "+Path+"/{$}", h.page)
	mux.HandleFunc("GET "+Path+"/static/{file}", h.asset)
	mux.HandleFunc("POST "+Path+"/login", h.login)
	mux.HandleFunc("POST "+Path+"/logout", h.logout)
	mux.HandleFunc("GET "+Path+"/api/session", h.session)
	mux.HandleFunc("GET "+Path+"/api/status", h.status)
	h.mux = mux
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	// The page loads only its own files; sockets and REST may go to another tenant's host.
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self' ws: wss: http: https:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// publicAssets are what the login form needs; everything else requires a session.
var publicAssets = map[string]bool{"login.js": true, "style.css": true}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.sessions.read(r); !ok {
		h.serveFile(w, "login.html", http.StatusUnauthorized)
		return
	}
	h.serveFile(w, "index.html", http.StatusOK)
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if !publicAssets[name] {
		if _, ok := h.sessions.read(r); !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	h.serveFile(w, name, http.StatusOK)
}

func (h *Handler) serveFile(w http.ResponseWriter, name string, code int) {
	if strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		http.NotFound(w, nil)
		return
	}
	body, err := fs.ReadFile(h.static, name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", contentType(name))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".html"):
		return "text/html; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	}
	return "application/octet-stream"
}

type loginRequest struct {
	Token  string `json:"token"`
	Tenant string `json:"tenant"`
}

// login turns a token into a session cookie. It takes JSON only, so a cross-site form cannot
// post it without a CORS preflight, which the inspector never answers.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"message": "send application/json"})
		return
	}
	var req loginRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad request body"})
		return
	}
	token := strings.TrimSpace(req.Token)
	if token == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "a token is required"})
		return
	}
	now := h.opts.Now()
	if h.isAdmin(token) {
		h.sessions.write(w, r, session{Kind: kindAdmin, Exp: now.Add(maxSession).Unix()})
		h.opts.Log.Info("inspector: admin session opened", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusOK, map[string]string{"kind": kindAdmin})
		return
	}
	tenant, exp, err := h.opts.VerifyTenant(r, strings.TrimSpace(req.Tenant), token)
	if err != nil {
		h.opts.Log.Info("inspector: login refused", "remote", r.RemoteAddr, "err", err)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "token refused: " + err.Error()})
		return
	}
	if limit := now.Add(maxSession); exp.IsZero() || exp.After(limit) {
		exp = limit
	}
	h.sessions.write(w, r, session{Kind: kindTenant, Tenant: tenant, Exp: exp.Unix()})
	writeJSON(w, http.StatusOK, map[string]string{"kind": kindTenant, "tenant": tenant})
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	h.sessions.clear(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) isAdmin(token string) bool {
	return h.opts.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(h.opts.AdminToken)) == 1
}

// session tells the page who it is talking to: the kind of session, its tenant, and this node.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	s, ok := h.sessions.read(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "no session"})
		return
	}
	host := ""
	if h.opts.HostTenant != nil {
		host = h.opts.HostTenant(r)
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": s.Kind, "tenant": s.Tenant, "hostTenant": host, "expires": s.Exp, "node": h.opts.Node})
}

// status is the node-wide view's data: admin sessions, or the admin token as a Bearer header.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	s, ok := h.sessions.read(r)
	admin := ok && s.Kind == kindAdmin
	if tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && h.isAdmin(strings.TrimSpace(tok)) {
		ok, admin = true, true
	}
	switch {
	case !ok:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "no session"})
	case !admin:
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "the node-wide view needs the admin token"})
	default:
		out := h.opts.Status()
		out["node"] = h.opts.Node
		if h.opts.RecentErrors != nil {
			out["recentErrors"] = h.opts.RecentErrors.List()
		}
		out["time"] = h.opts.Now().UTC().Format(time.RFC3339)
		writeJSON(w, http.StatusOK, out)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
