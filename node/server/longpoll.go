package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/realtimeops/realtime/node/socket"
)

// The Phoenix LongPoll transport (/socket/longpoll), for clients behind proxies that block
// WebSockets. Wire protocol as phoenix/lib/phoenix/transports/long_poll.ex (Phoenix 1.7+, the
// protocol of the phoenix / @supabase/phoenix JS LongPoll class):
//
//   - GET without a known token: admit the request like a WebSocket upgrade (tenant, apikey, vsn)
//     and answer {"status":410,"token":T,"messages":[]}: the session exists, poll with T.
//   - GET with token T (query "token" or header x-phoenix-longpoll-token): wait up to the window
//     (10 s) for frames, {"status":200,"token":T,"messages":[frame text, ...]}, or status 204.
//   - POST with T: the body's messages (parsePollBody) are handled in order, then {"status":200}.
//   - unknown or ended session: {"status":410}; refused admission: {"status":403,"error":msg}.
//
// The HTTP status is always 200 and the protocol status is in the body, as Phoenix does. Sessions
// live in this node's memory (Phoenix resumes them across nodes through PubSub): behind a load
// balancer, long-poll clients need session affinity.
const (
	pollWindow   = 10 * time.Second // window_ms
	pollInactive = 15 * time.Second // LongPoll.Server: 1.5 x window_ms without a poll ends it
	pollMaxBody  = 8 << 20          // Plug's read_body cap
)

// pollSessions maps session tokens to long-poll sockets.
type pollSessions struct {
	mu   sync.Mutex
	byID map[string]*pollSession
}

type pollSession struct {
	sock *socket.Socket
	// dispatch serialises POSTs: a session handles one client message at a time, as a read loop.
	dispatch sync.Mutex
}

func newPollSessions() *pollSessions { return &pollSessions{byID: map[string]*pollSession{}} }

func (p *pollSessions) get(token string) *pollSession {
	if token == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[token]
}

func (p *pollSessions) add(ps *pollSession) string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	p.mu.Lock()
	p.byID[token] = ps
	p.mu.Unlock()
	return token
}

func (p *pollSessions) remove(token string) {
	p.mu.Lock()
	delete(p.byID, token)
	p.mu.Unlock()
}

func pollToken(r *http.Request) string {
	if t := r.Header.Get("x-phoenix-longpoll-token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

func (s *Server) handleLongPoll(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		w.Header().Set("Access-Control-Allow-Methods", "get, post, options")
		w.Header().Set("Access-Control-Max-Age", "3600")
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		if ps := s.polls.get(pollToken(r)); ps != nil {
			s.poll(w, r, ps, pollToken(r))
			return
		}
		s.newPollSession(w, r)
	case http.MethodPost:
		ps := s.polls.get(pollToken(r))
		if ps == nil || ps.sock.Ended() {
			pollJSON(w, map[string]any{"status": http.StatusGone})
			return
		}
		s.publish(w, r, ps)
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (s *Server) newPollSession(w http.ResponseWriter, r *http.Request) {
	vsn, ok := parseVsn(r.URL.Query().Get("vsn"))
	if !ok {
		pollJSON(w, map[string]any{"status": http.StatusForbidden, "error": "unsupported vsn"})
		return
	}
	params, cerr := s.admit(r)
	if cerr != nil {
		s.log.Info("long-poll connect refused", "code", cerr.code, "host", r.Host, "status", cerr.status)
		time.Sleep(s.opts.ConnectBackoff)
		pollJSON(w, map[string]any{"status": http.StatusForbidden, "error": cerr.message})
		return
	}
	params.Version = vsn
	if lv, present := r.URL.Query()["log_level"]; present && len(lv) > 0 {
		params.LogLevel, params.LogLevelSet = socket.ParseLogLevel(lv[0], true)
	}
	sock := socket.NewLongPoll(params, s.deps, &s.opts.Socket)
	ps := &pollSession{sock: sock}
	token := s.polls.add(ps)
	id := params.Tenant.ExternalID
	s.hub.add(id, sock)
	s.sockets.Add(1)
	go func() {
		defer s.sockets.Done()
		defer s.hub.remove(id, sock)
		// Forgotten a window after it ends, so the client's last poll still sees 410 and not a
		// new session.
		defer time.AfterFunc(pollWindow, func() { s.polls.remove(token) })
		sock.ServeLongPoll(s.sockCtx, pollInactive)
	}()
	pollJSON(w, map[string]any{"status": http.StatusGone, "token": token, "messages": []string{}})
}

func (s *Server) poll(w http.ResponseWriter, r *http.Request, ps *pollSession, token string) {
	msgs, gone := ps.sock.Poll(r.Context(), pollWindow)
	if gone {
		pollJSON(w, map[string]any{"status": http.StatusGone})
		return
	}
	status := http.StatusOK
	if len(msgs) == 0 {
		status = http.StatusNoContent
	}
	out := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		b, _ := json.Marshal(string(m)) // a frame is valid UTF-8 JSON text: marshals as a string
		out[i] = b
	}
	pollJSON(w, map[string]any{"status": status, "token": token, "messages": out})
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request, ps *pollSession) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, pollMaxBody))
	if err != nil {
		pollJSON(w, map[string]any{"status": http.StatusRequestEntityTooLarge, "error": "body too large"})
		return
	}
	msgs, err := parsePollBody(r.Header.Get("Content-Type"), body)
	if err != nil {
		// Phoenix raises Plug.BadRequestError here: an HTTP 400; nothing of the batch is handled.
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": http.StatusBadRequest, "error": err.Error()})
		return
	}
	ps.dispatch.Lock()
	defer ps.dispatch.Unlock()
	for _, m := range msgs {
		ps.sock.Dispatch(m.data, m.binary)
	}
	pollJSON(w, map[string]any{"status": http.StatusOK})
}

// pollJSON writes a long-poll response (HTTP 200, the protocol status in the body).
func pollJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
