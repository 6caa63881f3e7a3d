// Package phoenix encodes and decodes the frames of the Phoenix channel protocol as Supabase Realtime
// speaks it: V1 JSON objects, V2 JSON arrays, and V2 binary kinds 3 (client user broadcast) and 4
// (server user broadcast). It does no I/O and knows nothing about channels (docs/protocol.md#framing).
package phoenix

import (
	"encoding/json"
	"errors"
)

// Version is the serializer a socket negotiated with `vsn`.
type Version uint8

// The protocol versions of the vsn connect parameter.
const (
	V1 Version = 1 // vsn=1.0.0: JSON objects
	V2 Version = 2 // vsn=2.0.0: JSON arrays + binary frames
)

// Event names of docs/protocol.md#client-contract item 7.
const (
	EventJoin          = "phx_join"
	EventReply         = "phx_reply"
	EventLeave         = "phx_leave"
	EventClose         = "phx_close"
	EventError         = "phx_error"
	EventHeartbeat     = "heartbeat"
	EventAccessToken   = "access_token"
	EventBroadcast     = "broadcast"
	EventPresence      = "presence"
	EventPresenceState = "presence_state"
	EventPresenceDiff  = "presence_diff"
	EventChanges       = "postgres_changes"
	EventSystem        = "system"
	TopicPhoenix       = "phoenix"
)

// Encoding of a user broadcast payload in binary frames.
const (
	EncodingBinary byte = 0
	EncodingJSON   byte = 1
)

// Null is the JSON null used for absent refs.
var Null = json.RawMessage("null")

// Message is one decoded client message. JoinRef and Ref keep the exact JSON value the client sent
// (replies must echo it unchanged); a missing ref is nil, which encodes as null.
type Message struct {
	JoinRef json.RawMessage
	Ref     json.RawMessage
	Topic   string
	Event   string
	// Payload is the raw JSON payload (nil for binary user broadcasts).
	Payload json.RawMessage
	// User is set for a V2 binary kind-3 user broadcast (Event is then "broadcast").
	User *UserBroadcast
}

// UserBroadcast is the content of a binary user broadcast: kind 3 from clients, kind 4 to clients.
type UserBroadcast struct {
	Event    string
	Encoding byte
	Meta     []byte // JSON object or empty
	Payload  []byte
}

// Errors returned by the decoders. All of them mean "malformed message": log and drop (docs/protocol.md#socket-lifecycle).
var (
	ErrEmpty          = errors.New("empty frame")
	ErrNotArray       = errors.New("V2 text frame is not a JSON array of at least 5 items")
	ErrNotObject      = errors.New("V1 frame is not a JSON object with topic, event, payload and ref")
	ErrBadTopic       = errors.New("topic must be a string")
	ErrBadEvent       = errors.New("event must be a string")
	ErrBadRef         = errors.New("ref and join_ref must be strings, numbers or null")
	ErrUnknownKind    = errors.New("unknown binary frame kind")
	ErrShortBinary    = errors.New("binary frame shorter than its header says")
	ErrBadEncoding    = errors.New("binary user broadcast encoding must be 0 or 1")
	ErrFieldTooLong   = errors.New("binary frame field longer than 255 bytes")
	ErrInvalidPayload = errors.New("payload is not valid JSON")
)
