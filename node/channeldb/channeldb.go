// Package channeldb gives channels what they need from a tenant's database: the connection check of
// the join pipeline, private-channel RLS authorization and replay, on the pools of tenantdb.
package channeldb

import (
	"context"
	"encoding/json"
	"errors"
	"time"

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
	pool, err := a.Pools.Pool(ctx, t)
	if err != nil {
		return false, false, unavailable(err)
	}
	return authz.Read(ctx, pool, authz.Request(req), presence)
}

// Write runs the RLS write check of docs/protocol.md#private-channels.
func (a *Access) Write(ctx context.Context, t *tenant.Tenant, req channel.AuthzRequest) (bool, bool, error) {
	pool, err := a.Pools.Pool(ctx, t)
	if err != nil {
		return false, false, unavailable(err)
	}
	return authz.Write(ctx, pool, authz.Request(req))
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
