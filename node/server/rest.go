package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// maxRESTBody bounds request bodies (the payload limit itself is per tenant).
const maxRESTBody = 10 << 20

func (s *Server) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "authorization, apikey, x-api-key, content-type, x-client-info")
		next(w, r)
	}
}

func message(text string) map[string]string { return map[string]string{"message": text} }

// restAuth runs the common REST pipeline: tenant, request rate limiter, JWT (docs/protocol.md#rest-batch-broadcast).
func (s *Server) restAuth(w http.ResponseWriter, r *http.Request) (*tenant.Tenant, map[string]any, bool) {
	t, ok := s.resolveTenant(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, message("Tenant not found in database"))
		return nil, nil, false
	}
	limits := t.Limits.Defaulted()
	reqs := s.deps.Rates.Counter(t.ExternalID, limiter.Requests)
	reqs.Add(1)
	avg := int(reqs.Average())
	w.Header().Set("x-rate-rolling", strconv.Itoa(avg))
	w.Header().Set("x-rate-limit", strconv.Itoa(limits.MaxEventsPerSecond))
	w.Header().Set("x-rate-limit-remaining", strconv.Itoa(limits.MaxEventsPerSecond-avg))
	if avg >= limits.MaxEventsPerSecond {
		writeJSON(w, http.StatusTooManyRequests, message("Too many requests"))
		return nil, nil, false
	}
	token := bearer(r.Header.Get("Authorization"))
	if token == "" {
		token = r.Header.Get("apikey")
	}
	keys, err := s.keys.get(t)
	if err != nil || token == "" {
		writeJSON(w, http.StatusUnauthorized, message("Unauthorized"))
		return nil, nil, false
	}
	claims, err := keys.VerifyConn(token, time.Now())
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, message("Unauthorized"))
		return nil, nil, false
	}
	if t.Suspend {
		writeJSON(w, http.StatusForbidden, message("Tenant is suspended"))
		return nil, nil, false
	}
	return t, claims, true
}

func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// handleSingleBroadcast implements POST /api/broadcast/:topic/events/:event (docs/protocol.md#rest-single-broadcast).
func (s *Server) handleSingleBroadcast(w http.ResponseWriter, r *http.Request) {
	binary, ok := contentKind(r.Header.Get("Content-Type"))
	if !ok {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Unsupported Media Type. Use application/json or application/octet-stream"})
		return
	}
	t, claims, ok := s.restAuth(w, r)
	if !ok {
		return
	}
	topic, event := r.PathValue("topic"), r.PathValue("event")
	private := r.URL.Query().Get("private") == "true"
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRESTBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, message("Unable to read request body"))
		return
	}
	user := &phoenix.UserBroadcast{Event: event, Encoding: phoenix.EncodingBinary, Payload: body}
	if !binary {
		var compact bytes.Buffer
		if len(bytes.TrimSpace(body)) == 0 || json.Compact(&compact, body) != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"payload": []string{"can't be blank"}}})
			return
		}
		user.Encoding, user.Payload = phoenix.EncodingJSON, compact.Bytes()
	}
	if len(user.Payload) > t.Limits.Defaulted().MaxPayloadBytes() {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"payload": []string{"Payload size exceeds tenant limit"}}})
		return
	}
	events := s.deps.Rates.Counter(t.ExternalID, limiter.Events)
	if events.Average() >= float64(t.Limits.Defaulted().MaxEventsPerSecond) {
		writeJSON(w, http.StatusTooManyRequests, message("You have exceeded your rate limit"))
		return
	}
	if private {
		if status, msg, allowed := s.restWriteCheck(r, t, topic, claims); !allowed {
			writeJSON(w, status, message(msg))
			return
		}
	}
	events.Add(1)
	s.deps.Metrics.Events.WithLabelValues(t.ExternalID).Inc()
	s.deps.Broker.Publish(&pubsub.Message{Topic: pubsub.Topic(t.ExternalID, topic, private), WireTopic: pubsub.WireTopic(topic),
		Event: phoenix.EventBroadcast, User: user})
	w.WriteHeader(http.StatusAccepted)
}

// contentKind accepts no content type, application/json and application/octet-stream.
func contentKind(ct string) (binary, ok bool) {
	if ct == "" {
		return false, true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, false
	}
	switch mt {
	case "application/json":
		return false, true
	case "application/octet-stream":
		return true, true
	}
	return false, false
}

// restWriteCheck runs the RLS write check for a private REST broadcast; it returns the HTTP status
// and message to answer with when the broadcast is not allowed.
func (s *Server) restWriteCheck(r *http.Request, t *tenant.Tenant, topic string, claims map[string]any) (int, string, bool) {
	if s.deps.Authorizer == nil || t.Database == nil {
		return http.StatusUnprocessableEntity, "Tenant database unavailable", false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	headers := map[string]string{}
	for k, v := range r.Header {
		if len(v) > 0 && !strings.EqualFold(k, "authorization") && !strings.EqualFold(k, "apikey") {
			headers[strings.ToLower(k)] = v[0]
		}
	}
	write, _, err := s.deps.Authorizer.Write(ctx, t, channel.AuthzRequest{Topic: topic, Claims: claims, Headers: headers})
	if err != nil {
		var re interface{ REST() (int, string) }
		if errors.As(err, &re) {
			status, msg := re.REST()
			return status, msg, false
		}
		return http.StatusInternalServerError, "Unable to authorize broadcast", false
	}
	if !write {
		return http.StatusForbidden, "Unauthorized", false
	}
	return 0, "", true
}
