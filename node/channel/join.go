package channel

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// Join reasons of docs/protocol.md#join-pipeline that do not come from other packages.
const (
	ReasonTopicRequired   = "TopicNameRequired: You must provide a topic name"
	ReasonRestarting      = "RealtimeRestarting: Realtime is restarting, please standby"
	ReasonTenantNotFound  = "TenantNotFound: Tenant with the given ID does not exist"
	ReasonPrivateOnly     = "PrivateOnly: This project only allows private channels"
	ReasonTooManyUsers    = "ConnectionRateLimitReached: Too many connected users"
	ReasonTooManyJoins    = "ClientJoinRateLimitReached: Too many joins per second"
	ReasonTooManyChannels = "ChannelRateLimitReached: Too many channels"
	ReasonSuspended       = "RealtimeDisabledForTenant: Realtime disabled for this tenant"
	ReasonUnknown         = "Unknown Error on Channel"
	ReasonReplayPublic    = "UnableToReplayMessages: Replay is not allowed for public channels"
	ReasonReplayFailed    = "UnableToReplayMessages: Realtime was unable to replay messages"
	ReasonPrivateNoAuthz  = "UnableToSetPolicies: Private channels need a tenant database to authorize them"
)

// Rejection is a failed join: the error reply's reason and, for some checks, a socket close code.
type Rejection struct {
	Reason    string
	CloseCode websocket.StatusCode // 0 = keep the socket
}

// Join runs the join pipeline for msg (a phx_join on "realtime:<subTopic>"). On success the channel
// has replied ok, subscribed, and queued its post-join pushes; on failure nothing is kept.
// A channel already joined on the same topic must have been stopped by the caller first.
func Join(deps *Deps, conn Conn, msg phoenix.Message, subTopic string) (*Channel, *Rejection) {
	cfg := ParseConfig(msg.Payload)
	t := conn.Tenant()
	log := conn.Logger().With("topic", subTopic)
	if len(cfg.Problems) > 0 {
		log.Info("invalid join payload", "code", "InvalidJoinPayload", "errors", cfg.Problems)
	}
	if rej := checkAdmission(deps, conn, cfg, subTopic); rej != nil {
		return nil, rej
	}
	token := accessToken(cfg, conn.TenantToken())
	claims, err := conn.KeySet().VerifyConn(token, deps.now())
	if err != nil {
		return nil, &Rejection{Reason: authReason(err)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Channel{
		id: nextID.Add(1), deps: deps, conn: conn, tenant: t, joinRef: msg.JoinRef, SubTopic: subTopic,
		Wire: pubsub.WireTopic(subTopic), Topic: pubsub.Topic(t.ExternalID, subTopic, cfg.Private), cfg: cfg,
		presKey: cfg.PresenceKey, ctx: ctx, cancel: cancel, token: token, claims: claims,
	}
	if c.presKey == "" {
		c.presKey = uuid.NewString()
	}
	c.bindCounters()
	if rej := c.checkDatabase(); rej != nil {
		cancel()
		return nil, rej
	}
	replay, rej := c.prepareReplay()
	if rej != nil {
		cancel()
		return nil, rej
	}
	c.start(msg, replay)
	return c, nil
}

// checkAdmission runs checks 0-6: topic, shutdown, tenant, private-only, users, joins, channels.
func checkAdmission(deps *Deps, conn Conn, cfg Config, subTopic string) *Rejection {
	t := conn.Tenant()
	if subTopic == "" {
		return &Rejection{Reason: ReasonTopicRequired}
	}
	if deps.ShuttingDown != nil && deps.ShuttingDown() {
		return &Rejection{Reason: ReasonRestarting}
	}
	if _, ok := deps.Tenants.Get(t.ExternalID); !ok {
		return &Rejection{Reason: ReasonTenantNotFound, CloseCode: websocket.StatusGoingAway}
	}
	if t.PrivateOnly && !cfg.Private {
		return &Rejection{Reason: ReasonPrivateOnly}
	}
	limits := t.Limits.Defaulted()
	if !conn.CountedAsUser() && deps.Users.Total(t.ExternalID) >= limits.MaxConcurrentUsers {
		return &Rejection{Reason: ReasonTooManyUsers}
	}
	joins := deps.Rates.Counter(t.ExternalID, limiter.Joins)
	joins.Add(1)
	deps.Metrics.Joins.WithLabelValues(t.ExternalID).Inc()
	if joins.Triggered() {
		return &Rejection{Reason: ReasonTooManyJoins, CloseCode: websocket.StatusGoingAway}
	}
	switch n := conn.ChannelCount(); {
	case n >= limits.MaxChannelsPerClient:
		return &Rejection{Reason: ReasonTooManyChannels}
	case n+1 == limits.MaxChannelsPerClient:
		// Upstream's limit_channels/2 logs the join that takes the last free slot (and admits it).
		conn.Logger().Error("last channel slot taken", "code", "ChannelRateLimitReached", "topic", subTopic)
		deps.Metrics.Errors.WithLabelValues(t.ExternalID, "ChannelRateLimitReached").Inc()
	}
	return nil
}

// accessToken picks the channel token of docs/protocol.md#token-lifecycle.
func accessToken(cfg Config, tenantToken string) string {
	var tok *string
	switch {
	case cfg.UserToken != nil:
		tok = cfg.UserToken
	case cfg.AccessToken != nil:
		tok = cfg.AccessToken
	}
	if tok == nil || strings.HasPrefix(*tok, "sb_") {
		return tenantToken
	}
	return *tok
}

func authReason(err error) string {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae.JoinReason()
	}
	return ReasonUnknown
}

// checkDatabase is join check 8 (tenant DB reachable, also for public channels) and check 9
// (private channels: RLS read policies).
func (c *Channel) checkDatabase() *Rejection {
	d := c.deps
	if cur, ok := d.Tenants.Get(c.tenant.ExternalID); ok && cur.Suspend {
		// Upstream refuses it in Connect.lookup_or_start_connection (lib/realtime/tenants/connect.ex,
		// tenant_suspended?/1) and keeps the socket.
		return &Rejection{Reason: ReasonSuspended}
	}
	if d.Database != nil && c.tenant.Database != nil {
		ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
		defer cancel()
		if err := d.Database.Ready(ctx, c.tenant); err != nil {
			return &Rejection{Reason: reasonOf(err, c.SubTopic)}
		}
	}
	if !c.cfg.Private {
		return nil
	}
	if d.Authorizer == nil || c.tenant.Database == nil {
		return &Rejection{Reason: ReasonPrivateNoAuthz}
	}
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	presenceOn := c.cfg.PresenceEnabled || c.tenant.PresenceEnabled
	start := time.Now()
	b, p, err := d.Authorizer.Read(ctx, c.tenant, c.authzRequest(), presenceOn)
	observeSince(d.Metrics.ReadAuthz, c.tenant.ExternalID, start)
	if err != nil {
		return &Rejection{Reason: reasonOf(err, c.SubTopic)}
	}
	if !b && !p {
		return &Rejection{Reason: "Unauthorized: You do not have permissions to read from this Channel topic: " + c.SubTopic}
	}
	c.perms = permissions{broadcastRead: b, presenceRead: p, presenceReadKnown: presenceOn}
	return nil
}

func reasonOf(err error, subTopic string) string {
	var tr TopicReasoned
	if errors.As(err, &tr) {
		return tr.JoinReason(subTopic)
	}
	var r Reasoned
	if errors.As(err, &r) {
		return r.JoinReason()
	}
	return ReasonUnknown
}

func (c *Channel) authzRequest() AuthzRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return AuthzRequest{Topic: c.SubTopic, Claims: c.claims, Headers: c.conn.Headers()}
}

// prepareReplay runs checks 10-11 and fetches the messages to replay. As upstream
// (realtime_channel.ex can_replay?/3 and maybe_replay_messages/5): any "replay" key, whatever its
// value, is refused on public channels and needs broadcast.read on private ones; a value that is
// not an object is then ignored (only a map is replayed).
func (c *Channel) prepareReplay() ([]*pubsub.Message, *Rejection) {
	if !c.cfg.ReplayPresent {
		return nil, nil
	}
	if !c.cfg.Private {
		return nil, &Rejection{Reason: ReasonReplayPublic}
	}
	if !c.perms.broadcastRead {
		return nil, &Rejection{Reason: "Unauthorized: You do not have permissions to read from this Channel topic: " + c.SubTopic}
	}
	if !isObject(c.cfg.Replay) {
		return nil, nil
	}
	if c.deps.Replayer == nil {
		return nil, &Rejection{Reason: ReasonReplayFailed}
	}
	start := time.Now()
	msgs, err := c.deps.Replayer.Replay(c.ctx, c.tenant, c.SubTopic, c.cfg.Replay)
	observeSince(c.deps.Metrics.Replay, c.tenant.ExternalID, start)
	if err != nil {
		c.logError("UnableToReplayMessages", "replay on join failed", "err", err)
		return nil, &Rejection{Reason: reasonOf(err, c.SubTopic)}
	}
	c.replayed = make(map[string]struct{}, len(msgs))
	for _, m := range msgs {
		c.replayed[m.MetaID] = struct{}{}
	}
	return msgs, nil
}

// start subscribes, replies ok, and performs the post-join pushes of docs/protocol.md#post-join-pushes.
func (c *Channel) start(msg phoenix.Message, replay []*pubsub.Message) {
	d := c.deps
	d.Broker.Subscribe(c.Topic, c)
	c.conn.Joined(c)
	reply, subscribe := c.prepareChanges()
	c.reply(msg.JoinRef, msg.Ref, "ok", reply)
	d.Metrics.JoinResults.WithLabelValues("ok").Inc()
	for _, m := range replay {
		if f := m.Frame(c.conn.Version()); f.Data != nil {
			c.conn.Send(c.replayFrame(m, f))
		}
	}
	if subscribe != nil {
		unsub := subscribe(c.ctx, c.tenant, c.claimsCopy(), (*changesSink)(c))
		c.mu.Lock()
		c.unsubChanges = unsub
		stopped := c.stopped
		c.mu.Unlock()
		if stopped {
			unsub()
		}
	}
	if c.cfg.ReplicationReady {
		c.notifyReplicationReady()
	}
	if c.cfg.PresenceEnabled || c.tenant.PresenceEnabled {
		if !c.cfg.Private || c.perms.presenceRead {
			c.presenceOn.Store(true)
			c.pushPresenceState()
		}
	}
	c.scheduleTokenCheck()
}

// replayFrame gives text replays the channel's join_ref (docs/protocol.md#broadcast-delivery); binary frames carry no refs.
func (c *Channel) replayFrame(m *pubsub.Message, f pubsub.Frame) pubsub.Frame {
	if f.Binary || m.User != nil && c.conn.Version() == phoenix.V2 {
		return f
	}
	payload := m.Payload
	if m.User != nil {
		payload, _ = phoenix.UserBroadcastJSON(m.User)
	}
	return pubsub.Frame{Data: phoenix.EncodeText(c.conn.Version(), c.joinRef, nil, c.Wire, phoenix.EventBroadcast, payload)}
}

func (c *Channel) prepareChanges() (json.RawMessage, SubscribeFunc) {
	if c.deps.Changes == nil {
		return json.RawMessage(`{"postgres_changes":[]}`), nil
	}
	arr, subscribe := c.deps.Changes.Prepare(c.bindingsJSON())
	if len(arr) == 0 {
		arr = json.RawMessage("[]")
	}
	b := append([]byte(`{"postgres_changes":`), arr...)
	return append(b, '}'), subscribe
}

func (c *Channel) claimsCopy() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]any, len(c.claims))
	for k, v := range c.claims {
		out[k] = v
	}
	return out
}

// Tenant returns the tenant the channel belongs to.
func (c *Channel) Tenant() *tenant.Tenant { return c.tenant }
