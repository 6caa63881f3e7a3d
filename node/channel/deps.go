// Package channel implements one joined channel of a socket: the join pipeline of docs/protocol.md#join-pipeline, client
// events (broadcast, presence, access_token, phx_leave), fan-out delivery, and shutdown.
package channel

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// Conn is what a channel needs from its socket.
type Conn interface {
	Version() phoenix.Version
	// Send enqueues a frame; it never blocks (a socket that cannot keep up closes itself).
	Send(f pubsub.Frame)
	Tenant() *tenant.Tenant
	KeySet() *auth.KeySet
	TenantToken() string
	// Headers are the x-* headers of the upgrade request (exposed to RLS policies).
	Headers() map[string]string
	// ChannelCount is the number of live channels on the socket.
	ChannelCount() int
	// Joined is called after a successful join, Left when a joined channel ends.
	Joined(ch *Channel)
	Left(ch *Channel)
	// CountedAsUser reports whether the socket already counts toward the concurrent-users limit.
	CountedAsUser() bool
	Close(code websocket.StatusCode, reason string)
	// Logger is the connection's logger (its log_level applied).
	Logger() *slog.Logger
}

// ChangesSink receives Postgres Changes for one channel.
type ChangesSink interface {
	PostgresChange(ids []int64, data json.RawMessage)
	System(status, message string)
}

// Changes is the Postgres Changes service as the channel sees it.
type Changes interface {
	// Prepare parses config.postgres_changes into the join reply's array (bindings echoed verbatim
	// with ids, in order) and a subscribe function; subscribe is nil when there are no bindings.
	Prepare(raw json.RawMessage) (reply json.RawMessage, subscribe SubscribeFunc)
}

// SubscribeFunc starts the subscription; the returned function ends it.
type SubscribeFunc func(ctx context.Context, t *tenant.Tenant, claims map[string]any, sink ChangesSink) (unsubscribe func())

// AuthzRequest is the context of a private-channel RLS check (docs/protocol.md#private-channels).
type AuthzRequest struct {
	Topic   string
	Claims  map[string]any
	Headers map[string]string
}

// Authorizer runs private-channel RLS checks on the tenant database.
type Authorizer interface {
	Read(ctx context.Context, t *tenant.Tenant, req AuthzRequest, presence bool) (broadcast, presenceRead bool, err error)
	Write(ctx context.Context, t *tenant.Tenant, req AuthzRequest) (broadcast, presenceWrite bool, err error)
}

// Replayer fetches stored private broadcasts for replay on join (docs/protocol.md#replay).
type Replayer interface {
	Replay(ctx context.Context, t *tenant.Tenant, subTopic string, params json.RawMessage) ([]*pubsub.Message, error)
}

// Database reports whether the tenant database connection is available (join check 8).
type Database interface {
	Ready(ctx context.Context, t *tenant.Tenant) error
}

// Reasoned errors carry the exact join reason ("<Code>: <message>").
type Reasoned interface{ JoinReason() string }

// TopicReasoned errors build their join reason from the sub-topic (authorization errors).
type TopicReasoned interface{ JoinReason(subTopic string) string }

// Deps are the node-wide services a channel uses. Optional ones may be nil.
type Deps struct {
	Tenants  tenant.Registry
	Broker   *pubsub.Broker
	Presence presence.Tracker
	Rates    *limiter.Tenants
	Users    *Users
	Metrics  *Metrics
	Log      *slog.Logger

	Changes    Changes    // nil: postgres_changes bindings are echoed but never subscribed
	Authorizer Authorizer // nil: private channels are refused
	Replayer   Replayer
	Database   Database
	// Replication answers replication_ready joins; nil: Changes when it implements Replication.
	Replication Replication

	// ReplicationReadyTimeout bounds the wait for the replication connection (default 1 min).
	ReplicationReadyTimeout time.Duration

	// ShuttingDown reports whether the node is draining (joins fail with RealtimeRestarting).
	ShuttingDown func() bool
	Now          func() time.Time
}

func (d *Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
