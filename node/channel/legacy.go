package channel

import (
	"encoding/json"
	"strings"

	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
)

// Legacy joins (docs/protocol.md#join-payload): a phx_join whose payload has no "config" key comes from a pre-2.0
// client. As upstream (realtime_channel.ex pg_change_params(false, ...), new_api?/1), its
// sub-topic is a Postgres Changes subscription schema[:table[:filter]] (realtime:public:todos,
// realtime:public, realtime:* ...), and each change is pushed with the change type as the event
// name and the bare change record as the payload (postgres_cdc_rls/message_dispatcher.ex,
// is_new_api false). The channel still works for broadcast and presence.

type legacyParams struct {
	Schema string  `json:"schema"`
	Table  *string `json:"table,omitempty"`
	Filter *string `json:"filter,omitempty"`
}

// legacyBindings turns the sub-topic into the one binding upstream derives from it, as a
// config.postgres_changes array (no "event": every change type).
func legacyBindings(subTopic string) json.RawMessage {
	parts := strings.SplitN(subTopic, ":", 3)
	p := legacyParams{Schema: parts[0]}
	if len(parts) > 1 {
		p.Table = &parts[1]
	}
	if len(parts) > 2 {
		p.Filter = &parts[2]
	}
	b, _ := json.Marshal([]legacyParams{p}) // strings only: cannot fail
	return b
}

// bindingsJSON is what the channel subscribes: config.postgres_changes, or for a legacy join the
// binding its topic names (only when the tenant has Postgres Changes: a plain Phoenix client
// joining for broadcast on a tenant without them gets no postgres_changes errors).
func (c *Channel) bindingsJSON() json.RawMessage {
	if !c.cfg.Legacy {
		return c.cfg.PostgresChanges
	}
	if c.tenant.Database == nil || !c.tenant.PostgresChanges {
		return nil
	}
	return legacyBindings(c.SubTopic)
}

// pushLegacyChange delivers a change to a legacy join: event INSERT/UPDATE/DELETE, payload the
// change record (the "data" object of docs/protocol.md#change-payloads).
func (c *Channel) pushLegacyChange(data json.RawMessage) {
	var rec struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &rec); err != nil || rec.Type == "" {
		c.log().Warn("legacy change without a type", "topic", c.SubTopic, "err", err)
		return
	}
	c.conn.Send(pubsub.Frame{Data: phoenix.EncodeText(c.conn.Version(), nil, nil, c.Wire, rec.Type, data)})
}
