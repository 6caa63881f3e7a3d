package channeldb

import (
	"context"
	"encoding/json"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// Changes adapts changes.Service to the channel's view of Postgres Changes.
type Changes struct {
	Service *changes.Service
	// Router, when set, takes the subscriptions instead of Service: in a cluster it registers them
	// with the tenant's WAL owner wherever it runs (node/changes/remote.Layer).
	Router Subscriber
}

// Subscriber is what subscribes a channel's bindings: changes.Service or a cluster router.
type Subscriber interface {
	Subscribe(ctx context.Context, t *tenant.Tenant, claims map[string]any, bindings []changes.Binding, sub changes.Subscriber) (unsubscribe func())
}

var _ channel.Changes = Changes{}

// Prepare parses config.postgres_changes into the join reply array (bindings echoed verbatim, in
// order, with ids) and the function that subscribes them.
func (c Changes) Prepare(raw json.RawMessage) (json.RawMessage, channel.SubscribeFunc) {
	bindings, err := changes.ParseBindings(raw)
	if err != nil || len(bindings) == 0 {
		return json.RawMessage("[]"), nil
	}
	reply := []byte{'['}
	for i, b := range bindings {
		if i > 0 {
			reply = append(reply, ',')
		}
		reply = append(reply, b.ReplyJSON()...)
	}
	reply = append(reply, ']')
	subscribe := func(ctx context.Context, t *tenant.Tenant, claims map[string]any, sink channel.ChangesSink) func() {
		if t.Database == nil || !t.PostgresChanges {
			sink.System("error", "Postgres Changes are not enabled for this tenant")
			return func() {}
		}
		if c.Router != nil {
			return c.Router.Subscribe(ctx, t, claims, bindings, sink)
		}
		return c.Service.Subscribe(ctx, t, claims, bindings, sink)
	}
	return reply, subscribe
}

// BroadcastSink publishes rows inserted into realtime.messages (realtime.send, broadcast_changes)
// to the topic's subscribers, as docs/protocol.md#database-broadcast describes: metadata {"id": id}, JSON or binary payload,
// the tenant's size and events limits applied.
func BroadcastSink(broker *pubsub.Broker, rates *limiter.Tenants) changes.BroadcastSink {
	return func(t *tenant.Tenant, topic string, private bool, event string, payload []byte, binary bool, id string) {
		events := rates.Counter(t.ExternalID, limiter.Events)
		if len(payload) > t.Limits.Defaulted().MaxPayloadBytes() || events.Triggered() {
			return // UnableToBroadcastChanges: dropped
		}
		events.Add(1)
		meta := append(append([]byte(`{"id":`), phoenix.String(id)...), '}')
		enc := phoenix.EncodingJSON
		if binary {
			enc = phoenix.EncodingBinary
		}
		broker.Publish(&pubsub.Message{
			Topic: pubsub.Topic(t.ExternalID, topic, private), WireTopic: pubsub.WireTopic(topic), Event: phoenix.EventBroadcast,
			User: &phoenix.UserBroadcast{Event: event, Encoding: enc, Meta: meta, Payload: payload}, MetaID: id,
		})
	}
}
