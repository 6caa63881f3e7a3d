package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
)

type batchMessage struct {
	Topic   *string         `json:"topic"`
	Event   *string         `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Private bool            `json:"private"`
	ID      *string         `json:"id"`
}

type batchBody struct {
	Messages []batchMessage `json:"messages"`
}

// handleBatchBroadcast implements POST /api/broadcast (docs/protocol.md#rest-batch-broadcast).
func (s *Server) handleBatchBroadcast(w http.ResponseWriter, r *http.Request) {
	t, claims, ok := s.restAuth(w, r)
	if !ok {
		return
	}
	var body batchBody
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRESTBody))
	if err != nil || json.Unmarshal(raw, &body) != nil || len(body.Messages) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"messages": []string{"can't be blank"}}})
		return
	}
	limits := t.Limits.Defaulted()
	if errs, bad := validateBatch(body.Messages, limits.MaxPayloadBytes()); bad {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"messages": errs}})
		return
	}
	events := s.deps.Rates.Counter(t.ExternalID, limiter.Events)
	avg := events.Average()
	switch {
	case avg > float64(limits.MaxEventsPerSecond):
		writeJSON(w, http.StatusTooManyRequests, message("You have exceeded your rate limit"))
		return
	case avg+float64(len(body.Messages)) > float64(limits.MaxEventsPerSecond):
		writeJSON(w, http.StatusTooManyRequests, message("Too many messages to broadcast, please reduce the batch size"))
		return
	}
	allowed := map[string]bool{} // private topic -> write permission, one check per topic
	for _, m := range body.Messages {
		if m.Private {
			ok, seen := allowed[*m.Topic]
			if !seen {
				_, _, ok = s.restWriteCheck(r, t, *m.Topic, claims)
				allowed[*m.Topic] = ok
			}
			if !ok {
				continue // silently skipped, still 202
			}
		}
		events.Add(1)
		s.deps.Metrics.Events.WithLabelValues(t.ExternalID).Inc()
		msg := &pubsub.Message{Topic: pubsub.Topic(t.ExternalID, *m.Topic, m.Private), WireTopic: pubsub.WireTopic(*m.Topic),
			Event: phoenix.EventBroadcast, Payload: restPayload(*m.Event, m.Payload, m.ID)}
		if m.ID != nil {
			msg.MetaID = *m.ID
		}
		s.deps.Broker.Publish(msg)
	}
	w.WriteHeader(http.StatusAccepted)
}

// validateBatch returns one error object per message ({} when valid) and whether any failed.
func validateBatch(msgs []batchMessage, maxPayload int) ([]map[string][]string, bool) {
	out := make([]map[string][]string, len(msgs))
	bad := false
	for i, m := range msgs {
		e := map[string][]string{}
		if m.Topic == nil || *m.Topic == "" {
			e["topic"] = []string{"can't be blank"}
		}
		if m.Event == nil || *m.Event == "" {
			e["event"] = []string{"can't be blank"}
		}
		p := bytes.TrimSpace(m.Payload)
		switch {
		case len(p) == 0 || string(p) == "null":
			e["payload"] = []string{"can't be blank"}
		case p[0] != '{':
			e["payload"] = []string{"is invalid"}
		case len(p) > maxPayload:
			e["payload"] = []string{"Payload size exceeds tenant limit"}
		}
		if len(e) > 0 {
			bad = true
		}
		out[i] = e
	}
	return out, bad
}

// restPayload builds {"event":E,"payload":P,"type":"broadcast"[,"meta":{"id":ID}]}.
func restPayload(event string, payload json.RawMessage, id *string) json.RawMessage {
	b := make([]byte, 0, 64+len(payload))
	b = append(b, `{"event":`...)
	b = append(b, phoenix.String(event)...)
	b = append(b, `,"payload":`...)
	b = append(b, bytes.TrimSpace(payload)...)
	b = append(b, `,"type":"broadcast"`...)
	if id != nil {
		b = append(b, `,"meta":{"id":`...)
		b = append(b, phoenix.String(*id)...)
		b = append(b, '}')
	}
	return append(b, '}')
}
