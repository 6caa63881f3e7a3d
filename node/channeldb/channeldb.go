// Package channeldb gives channels what they need from a tenant's database: the connection check of
// the join pipeline, private-channel RLS authorization and replay, on the pools of tenantdb.
package channeldb

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/node/authz"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/replay"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

// Access implements channel.Database, channel.Authorizer and channel.Replayer.
type Access struct {
	Pools *tenantdb.Manager
	Log   *slog.Logger // nil: slog.Default()

	guards sync.Map // tenant external id -> *authz.PoolGuard
}

var (
	_ channel.Database   = (*Access)(nil)
	_ channel.Authorizer = (*Access)(nil)
	_ channel.Replayer   = (*Access)(nil)
)

// Ready connects the tenant's pool (lazily, once) and reports classified errors.
func (a *Access) Ready(ctx context.Context, t *tenant.Tenant) error {
	_, err := a.Pools.Pool(ctx, t)
	return err
}

// Read runs the RLS read check of docs/protocol.md#private-channels.
func (a *Access) Read(ctx context.Context, t *tenant.Tenant, req channel.AuthzRequest, presence bool) (bool, bool, error) {
	return a.check(ctx, t, func(pool *pgxpool.Pool) (bool, bool, error) {
		return authz.Read(ctx, pool, authz.Request(req), presence)
	})
}

// Write runs the RLS write check of docs/protocol.md#private-channels.
func (a *Access) Write(ctx context.Context, t *tenant.Tenant, req channel.AuthzRequest) (bool, bool, error) {
	return a.check(ctx, t, func(pool *pgxpool.Pool) (bool, bool, error) {
		return authz.Write(ctx, pool, authz.Request(req))
	})
}

// check runs an authorization check behind the tenant's PoolGuard: once as many checks as the
// pool has connections waited out their deadline for a connection within 30 s, checks fail fast
// with IncreaseConnectionPool instead of queueing on a pool that is already too small
// (docs/protocol.md#private-channels; upstream lib/realtime/tenants/authorization.ex, its
// authorization_errors rate counter in lib/realtime/tenants.ex).
func (a *Access) check(ctx context.Context, t *tenant.Tenant, run func(*pgxpool.Pool) (bool, bool, error)) (bool, bool, error) {
	g := a.guard(t.ExternalID)
	if err := g.Check(); err != nil {
		return false, false, err
	}
	pool, err := a.Pools.Pool(ctx, t)
	if err != nil {
		return false, false, unavailable(err)
	}
	b, p, err := run(pool)
	if g.Observe(err) {
		log := a.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("IncreaseConnectionPool: Too many database timeouts", "external_id", t.ExternalID,
			"pool_size", g.Size, "err", err)
	}
	return b, p, err
}

func (a *Access) guard(externalID string) *authz.PoolGuard {
	if g, ok := a.guards.Load(externalID); ok {
		return g.(*authz.PoolGuard)
	}
	g, _ := a.guards.LoadOrStore(externalID, &authz.PoolGuard{Size: a.Pools.PoolSize()})
	return g.(*authz.PoolGuard)
}

// unavailable maps a pool error to the authorization error whose texts the join and REST paths use.
func unavailable(err error) error {
	var ae *authz.Error
	if errors.As(err, &ae) {
		return err
	}
	return &authz.Error{Kind: authz.KindUnavailable, Err: err}
}

// reasonError carries a fixed join reason (all the client sees) and the cause, for logs.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}

func (e *reasonError) Unwrap() error      { return e.err }
func (e *reasonError) JoinReason() string { return e.reason }

// Replay fetches stored private broadcasts (docs/protocol.md#replay) as fan-out messages marked replayed.
func (a *Access) Replay(ctx context.Context, t *tenant.Tenant, subTopic string, raw json.RawMessage) ([]*pubsub.Message, error) {
	params, err := replay.Parse(raw)
	if err != nil {
		return nil, &reasonError{reason: replay.ReasonInvalidParams} // err is this reason
	}
	pool, err := a.Pools.Pool(ctx, t)
	if err != nil {
		return nil, &reasonError{reason: replay.ReasonFailed, err: err}
	}
	rows, err := replay.Fetch(ctx, pool, subTopic, params, time.Now())
	if err != nil {
		return nil, &reasonError{reason: replay.ReasonFailed, err: err}
	}
	out := make([]*pubsub.Message, 0, len(rows))
	for _, r := range rows {
		out = append(out, replayed(subTopic, r))
	}
	return out, nil
}

// replayed builds the delivery shapes of docs/protocol.md#broadcast-delivery for a replayed row.
func replayed(subTopic string, r replay.Message) *pubsub.Message {
	meta := []byte(`{"replayed":true,"id":`)
	meta = append(append(meta, phoenix.String(r.ID)...), '}')
	m := &pubsub.Message{WireTopic: pubsub.WireTopic(subTopic), Event: phoenix.EventBroadcast, MetaID: r.ID}
	if r.IsBinary {
		m.User = &phoenix.UserBroadcast{Event: r.Event, Encoding: phoenix.EncodingBinary, Meta: meta, Payload: r.Binary}
		return m
	}
	b := append([]byte(`{"payload":`), r.Payload...)
	b = append(b, `,"event":`...)
	b = append(b, phoenix.String(r.Event)...)
	b = append(b, `,"type":"broadcast","meta":`...)
	b = append(b, meta...)
	m.Payload = append(b, '}')
	return m
}
