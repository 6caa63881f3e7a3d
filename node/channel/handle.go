package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
)

// HandleIn processes a client message for this joined channel (everything but phx_join/phx_leave).
func (c *Channel) HandleIn(msg phoenix.Message) {
	switch msg.Event {
	case phoenix.EventBroadcast:
		c.handleBroadcast(msg)
	case phoenix.EventPresence:
		c.handlePresence(msg)
	case phoenix.EventAccessToken:
		c.handleAccessToken(msg.Payload)
	default:
		// Unknown events get no reply but count against the events limiter (docs/protocol.md#control-events).
		c.events.Add(1)
	}
}

// handleBroadcast implements docs/protocol.md#client-broadcast.
func (c *Channel) handleBroadcast(msg phoenix.Message) {
	if c.cfg.Private {
		write, _, ok := c.writePermission()
		if !ok || !write {
			return // dropped silently, no ack, not counted
		}
	}
	t := c.tenant.ExternalID
	c.events.Add(1)
	c.eventsMetric.Inc()
	m := &pubsub.Message{Topic: c.Topic, WireTopic: c.Wire, Event: phoenix.EventBroadcast, Payload: msg.Payload, User: msg.User}
	size := m.Size()
	c.deps.Metrics.PayloadSize.WithLabelValues(t, "broadcast").Observe(float64(size))
	if size > c.tenant.Limits.Defaulted().MaxPayloadBytes() {
		if c.cfg.Ack {
			c.reply(msg.JoinRef, msg.Ref, "error", phoenix.String("payload_size_exceeded"))
		}
		return
	}
	if !c.cfg.Self {
		m.Exclude = c.id
	}
	c.deps.Broker.Publish(m)
	if c.cfg.Ack {
		c.reply(msg.JoinRef, msg.Ref, "ok", nil)
	}
}

// writePermission returns the cached RLS write permissions, running the check once (docs/protocol.md#private-channels).
func (c *Channel) writePermission() (broadcast, presence, ok bool) {
	c.mu.Lock()
	if c.perms.broadcastWrite != nil {
		b, p := *c.perms.broadcastWrite, *c.perms.presenceWrite
		c.mu.Unlock()
		return b, p, true
	}
	c.mu.Unlock()
	if c.deps.Authorizer == nil {
		return false, false, false
	}
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	start := time.Now()
	b, p, err := c.deps.Authorizer.Write(ctx, c.tenant, c.authzRequest())
	observeSince(c.deps.Metrics.WriteAuthz, c.tenant.ExternalID, start)
	if err != nil {
		c.logError("RlsPolicyError", "write authorization failed", "err", err)
		return false, false, false
	}
	c.mu.Lock()
	c.perms.broadcastWrite, c.perms.presenceWrite = &b, &p
	c.mu.Unlock()
	return b, p, true
}

type accessTokenPayload struct {
	AccessToken *string `json:"access_token"`
}

// handleAccessToken implements the access_token event of docs/protocol.md#token-lifecycle (never replied to).
func (c *Channel) handleAccessToken(payload json.RawMessage) {
	var p accessTokenPayload
	if json.Unmarshal(payload, &p) != nil || p.AccessToken == nil {
		return
	}
	tok := *p.AccessToken
	c.mu.Lock()
	same := tok == c.token
	c.mu.Unlock()
	if same || strings.HasPrefix(tok, "sb_") {
		return
	}
	claims, err := c.conn.KeySet().VerifyConn(tok, c.deps.now())
	if err != nil {
		c.Shutdown(shutdownMessage(err))
		return
	}
	c.mu.Lock()
	c.token, c.claims = tok, claims
	c.perms.broadcastWrite, c.perms.presenceWrite = nil, nil
	c.mu.Unlock()
	if c.cfg.Private && !c.refreshReadPolicies() {
		return
	}
	c.scheduleTokenCheck()
	c.resubscribeChanges()
}

// refreshReadPolicies re-runs the read check after a token refresh; it reports whether the channel
// is still open.
func (c *Channel) refreshReadPolicies() bool {
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	start := time.Now()
	b, p, err := c.deps.Authorizer.Read(ctx, c.tenant, c.authzRequest(), c.presenceOn.Load())
	observeSince(c.deps.Metrics.ReadAuthz, c.tenant.ExternalID, start)
	if err != nil {
		c.Shutdown("You do not have permissions to read from this Channel topic: " + c.SubTopic)
		return false
	}
	c.mu.Lock()
	lost := (c.perms.broadcastRead && !b) || (c.perms.presenceRead && !p)
	c.perms.broadcastRead, c.perms.presenceRead = b, p
	c.mu.Unlock()
	if lost {
		c.Shutdown("You no longer have permission to read from this Channel topic: " + c.SubTopic)
		return false
	}
	return true
}

func (c *Channel) resubscribeChanges() {
	if c.deps.Changes == nil {
		return
	}
	_, subscribe := c.deps.Changes.Prepare(c.bindingsJSON())
	if subscribe == nil {
		return
	}
	unsub := subscribe(c.ctx, c.tenant, c.claimsCopy(), (*changesSink)(c))
	c.mu.Lock()
	old := c.unsubChanges
	c.unsubChanges = unsub
	c.mu.Unlock()
	if old != nil {
		old()
	}
}

func shutdownMessage(err error) string {
	if ae, ok := err.(*auth.Error); ok {
		return ae.ShutdownMessage()
	}
	return "The token provided is not a valid JWT"
}

// scheduleTokenCheck re-validates the token at min(5 min, exp - now) (docs/protocol.md#token-lifecycle).
func (c *Channel) scheduleTokenCheck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	wait := 5 * time.Minute
	if exp, ok := c.claims.Exp(); ok {
		if d := time.Until(time.Unix(exp, 0)); d < wait {
			wait = d
		}
	}
	if wait < 0 {
		wait = 0
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	tok := c.token
	c.expiry = time.AfterFunc(wait, func() { c.confirmToken(tok) })
}

func (c *Channel) confirmToken(tok string) {
	c.mu.Lock()
	current := c.token == tok
	c.mu.Unlock()
	if !current {
		return
	}
	// Expiry is exact to the second; wait for the second to pass so "now" is after exp.
	if _, err := c.conn.KeySet().VerifyConn(tok, c.deps.now().Add(time.Second)); err != nil {
		c.Shutdown(shutdownMessage(err))
		return
	}
	c.scheduleTokenCheck()
}

// changesSink adapts a channel to ChangesSink.
type changesSink Channel

func (s *changesSink) PostgresChange(ids []int64, data json.RawMessage) {
	c := (*Channel)(s)
	c.events.Add(1)
	c.dbMetric.Inc()
	if c.cfg.Legacy {
		c.pushLegacyChange(data)
		return
	}
	var b bytes.Buffer
	b.Grow(len(data) + 32)
	b.WriteString(`{"ids":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(phoenix.Int(id))
	}
	b.WriteString(`],"data":`)
	b.Write(data)
	b.WriteByte('}')
	c.conn.Send(pubsub.Frame{Data: phoenix.EncodeText(c.conn.Version(), nil, nil, c.Wire, phoenix.EventChanges, b.Bytes())})
}

func (s *changesSink) System(status, message string) {
	(*Channel)(s).System("postgres_changes", status, message)
}
