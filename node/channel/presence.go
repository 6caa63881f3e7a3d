package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
)

type presencePayload struct {
	Event   *string         `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

var errorEmpty = json.RawMessage(`{}`)

// handlePresence implements docs/protocol.md#presence-events.
func (c *Channel) handlePresence(msg phoenix.Message) {
	var p presencePayload
	if json.Unmarshal(msg.Payload, &p) != nil || p.Event == nil {
		c.reply(msg.JoinRef, msg.Ref, "ok", nil)
		return
	}
	limits := c.tenant.Limits.Defaulted()
	c.mu.Lock()
	allowed := c.presenceWindow.Allow(c.deps.now().UnixMilli(), limits.MaxClientPresenceEventsPerWindow, limits.ClientPresenceWindowMS)
	c.mu.Unlock()
	if !allowed {
		c.log().Info("client presence rate limit", "code", "ClientPresenceRateLimitReached")
		c.Shutdown("Client presence rate limit exceeded")
		return
	}
	switch strings.ToLower(*p.Event) {
	case "track":
		c.track(msg, p.Payload)
	case "untrack":
		c.deps.Presence.Untrack(c.Topic, presence.Owner(c.id))
		c.mu.Lock()
		c.lastTrack = nil
		c.mu.Unlock()
		c.reply(msg.JoinRef, msg.Ref, "ok", nil)
	default:
		c.logError("UnknownPresenceEvent", "unknown presence event", "event", *p.Event)
		c.reply(msg.JoinRef, msg.Ref, "error", errorEmpty)
	}
}

func (c *Channel) track(msg phoenix.Message, meta json.RawMessage) {
	if c.cfg.Private {
		if !c.presenceReadKnown() && !c.authorizePresenceRead() {
			c.reply(msg.JoinRef, msg.Ref, "error", errorEmpty)
			return
		}
		_, write, ok := c.writePermission()
		if !ok || !write {
			c.reply(msg.JoinRef, msg.Ref, "error", errorEmpty)
			return
		}
	}
	meta = bytes.TrimSpace(meta)
	if len(meta) == 0 || string(meta) == "null" {
		meta = json.RawMessage(`{}`)
	}
	if meta[0] != '{' {
		c.reply(msg.JoinRef, msg.Ref, "error", phoenix.ErrorReason("Presence track payload must be a map"))
		return
	}
	c.mu.Lock()
	same := c.lastTrack != nil && bytes.Equal(c.lastTrack, meta)
	c.mu.Unlock()
	if same {
		c.reply(msg.JoinRef, msg.Ref, "ok", nil)
		return
	}
	t := c.tenant
	if len(meta) > t.Limits.Defaulted().MaxPayloadBytes() {
		c.Shutdown("Track message size exceeded")
		return
	}
	if c.presenceEvents.Average() > float64(t.Limits.Defaulted().MaxPresenceEventsPerSecond) {
		c.Shutdown("Too many presence messages per second")
		return
	}
	c.countPresence(1)
	c.deps.Metrics.PayloadSize.WithLabelValues(t.ExternalID, "presence").Observe(float64(len(meta)))
	enabling := !c.presenceOn.Swap(true)
	if err := c.deps.Presence.Track(c.Topic, c.presKey, presence.Owner(c.id), meta); err != nil {
		c.reply(msg.JoinRef, msg.Ref, "error", phoenix.ErrorReason("Presence track payload must be a map"))
		return
	}
	c.mu.Lock()
	c.lastTrack = append(json.RawMessage(nil), meta...)
	c.mu.Unlock()
	if enabling && c.canRead(false) {
		// One better than upstream (supabase/realtime#2196): when a track is what enables presence,
		// upstream never pushes presence_state, so realtime-js keeps buffering the diffs it gets
		// and never shows members tracked before. The state is pushed before the reply, so it is
		// there when realtime-js's track() resolves; it already holds this channel's own meta, and
		// realtime-js drops the join of the same phx_ref when that diff arrives.
		c.pushPresenceState()
	}
	c.reply(msg.JoinRef, msg.Ref, "ok", nil)
}

// presenceReadKnown reports whether presence.read was evaluated (at join when presence was
// enabled then, or by an earlier track).
func (c *Channel) presenceReadKnown() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.perms.presenceReadKnown
}

// authorizePresenceRead evaluates presence.read on a private channel whose presence was not enabled
// at join, as upstream's maybe_authorize_presence_read does on the first track
// (lib/realtime_web/channels/realtime_channel/presence_handler.ex, handle_presence_event("track")).
// Without it the channel's presence.read stayed false and it never got a presence_diff. It reports
// whether the check ran; a denied read is not an error (the track may still be allowed to write).
func (c *Channel) authorizePresenceRead() bool {
	if c.deps.Authorizer == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	start := time.Now()
	b, p, err := c.deps.Authorizer.Read(ctx, c.tenant, c.authzRequest(), true)
	observeSince(c.deps.Metrics.ReadAuthz, c.tenant.ExternalID, start)
	if err != nil {
		c.logError("RlsPolicyError", "presence read authorization failed", "err", err)
		return false
	}
	c.mu.Lock()
	c.perms.broadcastRead = c.perms.broadcastRead || b
	c.perms.presenceRead, c.perms.presenceReadKnown = p, true
	c.mu.Unlock()
	return true
}

func (c *Channel) pushPresenceState() {
	state := c.deps.Presence.List(c.Topic)
	b, err := state.MarshalJSON()
	if err != nil {
		c.log().Error("encode presence_state", "err", err)
		return
	}
	c.countPresence(1)
	c.push(phoenix.EventPresenceState, b)
}

// PresenceRelay turns tracker diffs into presence_diff fan-out on this node.
func PresenceRelay(broker *pubsub.Broker, log interface{ Error(string, ...any) }) func(presence.Diff) {
	return func(d presence.Diff) {
		payload, err := presence.MarshalDiff(d)
		if err != nil {
			log.Error("encode presence_diff", "err", err)
			return
		}
		sub := d.Topic
		if i := strings.IndexByte(sub, ':'); i >= 0 {
			sub = sub[i+1:]
		}
		broker.PublishLocal(&pubsub.Message{Topic: d.Topic, WireTopic: pubsub.WireTopic(sub), Event: phoenix.EventPresenceDiff, Payload: payload})
	}
}
