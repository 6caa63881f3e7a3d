// Package pubsub is the node-local fan-out from tenant-scoped topics to subscribers (channels). A
// message is encoded at most once per serializer version, however many subscribers receive it.
package pubsub

import (
	"encoding/json"
	"sync"

	"github.com/realtimeops/realtime/node/phoenix"
)

// Message is one fan-out message. Exactly one of Payload (a JSON text message) or User (a user
// broadcast: binary kind 4 to V2, JSON object to V1) is set.
type Message struct {
	// Topic is the tenant-scoped pub/sub topic: "<tenant>:<sub>" or "<tenant>-private:<sub>".
	Topic string
	// WireTopic is what subscribers see: "realtime:<sub>".
	WireTopic string
	Event     string
	Payload   json.RawMessage
	User      *phoenix.UserBroadcast
	// Exclude is the subscriber that must not receive this message (broadcast.self = false).
	Exclude uint64
	// MetaID is the message id (database broadcasts, REST ids) used to skip replayed messages.
	MetaID string

	once   [3]sync.Once
	frames [3]Frame
}

// Frame is an encoded WebSocket frame. A zero Frame (nil Data) means "not for this serializer".
type Frame struct {
	Data   []byte
	Binary bool
}

// Frame returns the message encoded for serializer v, computed once and shared by all subscribers.
func (m *Message) Frame(v phoenix.Version) Frame {
	m.once[v].Do(func() { m.frames[v] = m.encode(v) })
	return m.frames[v]
}

func (m *Message) encode(v phoenix.Version) Frame {
	if m.User == nil {
		return Frame{Data: phoenix.EncodeText(v, nil, nil, m.WireTopic, m.Event, m.Payload)}
	}
	if v == phoenix.V2 {
		data, err := phoenix.EncodeUserBroadcast(m.WireTopic, m.User)
		if err != nil {
			// Topic, event or metadata longer than 255 bytes cannot be framed (docs/protocol.md#v2-binary-frames): fall back
			// to the JSON text form when possible, which realtime-js also understands.
			if payload, ok := phoenix.UserBroadcastJSON(m.User); ok {
				return Frame{Data: phoenix.EncodeText(v, nil, nil, m.WireTopic, phoenix.EventBroadcast, payload)}
			}
			return Frame{}
		}
		return Frame{Data: data, Binary: true}
	}
	payload, ok := phoenix.UserBroadcastJSON(m.User)
	if !ok {
		return Frame{} // binary payloads never reach V1 sockets
	}
	return Frame{Data: phoenix.EncodeText(v, nil, nil, m.WireTopic, phoenix.EventBroadcast, payload)}
}

// Size is the payload size used for limits and metrics.
func (m *Message) Size() int {
	if m.User != nil {
		return len(m.User.Payload)
	}
	return len(m.Payload)
}
