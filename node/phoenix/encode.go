package phoenix

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// EncodeText encodes a server message as a text frame for the given serializer. joinRef and ref are
// raw JSON values (nil = null). V1 never carries join_ref (docs/protocol.md#v1-frames).
func EncodeText(v Version, joinRef, ref json.RawMessage, topic, event string, payload json.RawMessage) []byte {
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	b := make([]byte, 0, 48+len(topic)+len(event)+len(payload))
	if v == V2 {
		b = append(b, '[')
		b = appendRaw(b, joinRef)
		b = append(b, ',')
		b = appendRaw(b, ref)
		b = append(b, ',')
		b = AppendString(b, topic)
		b = append(b, ',')
		b = AppendString(b, event)
		b = append(b, ',')
		b = append(b, payload...)
		return append(b, ']')
	}
	b = append(b, `{"topic":`...)
	b = AppendString(b, topic)
	b = append(b, `,"event":`...)
	b = AppendString(b, event)
	b = append(b, `,"payload":`...)
	b = append(b, payload...)
	b = append(b, `,"ref":`...)
	b = appendRaw(b, ref)
	return append(b, '}')
}

// EncodeReply encodes a phx_reply: payload {"status":S,"response":R}.
func EncodeReply(v Version, joinRef, ref json.RawMessage, topic, status string, response json.RawMessage) []byte {
	return EncodeText(v, joinRef, ref, topic, EventReply, ReplyPayload(status, response))
}

// ReplyPayload builds {"status":S,"response":R}; a nil response is {}.
func ReplyPayload(status string, response json.RawMessage) json.RawMessage {
	if len(response) == 0 {
		response = json.RawMessage("{}")
	}
	b := make([]byte, 0, 32+len(response))
	b = append(b, `{"status":`...)
	b = AppendString(b, status)
	b = append(b, `,"response":`...)
	b = append(b, response...)
	return append(b, '}')
}

// ErrorReason builds the join/presence error response {"reason":R}.
func ErrorReason(reason string) json.RawMessage {
	b := append([]byte(`{"reason":`), AppendString(nil, reason)...)
	return append(b, '}')
}

// EncodeUserBroadcast encodes a kind-4 frame: [4][topic_len][event_len][meta_len][enc] + topic +
// event + meta + payload. Every string field must fit in one byte (docs/protocol.md#v2-binary-frames).
func EncodeUserBroadcast(topic string, u *UserBroadcast) ([]byte, error) {
	if len(topic) > 255 || len(u.Event) > 255 || len(u.Meta) > 255 {
		return nil, ErrFieldTooLong
	}
	b := make([]byte, 0, 5+len(topic)+len(u.Event)+len(u.Meta)+len(u.Payload))
	b = append(b, 4, byte(len(topic)), byte(len(u.Event)), byte(len(u.Meta)), u.Encoding)
	b = append(b, topic...)
	b = append(b, u.Event...)
	b = append(b, u.Meta...)
	return append(b, u.Payload...), nil
}

// UserBroadcastJSON is the JSON object a V1 (or text) subscriber gets for a JSON user broadcast:
// {"event":E,"payload":P,"type":"broadcast"[,"meta":M]} (docs/protocol.md#broadcast-delivery). ok is false for binary payloads,
// which V1 sockets never receive.
func UserBroadcastJSON(u *UserBroadcast) (json.RawMessage, bool) {
	if u.Encoding != EncodingJSON {
		return nil, false
	}
	b := make([]byte, 0, 48+len(u.Event)+len(u.Payload)+len(u.Meta))
	b = append(b, `{"event":`...)
	b = AppendString(b, u.Event)
	b = append(b, `,"payload":`...)
	b = append(b, u.Payload...)
	b = append(b, `,"type":"broadcast"`...)
	if len(u.Meta) > 0 {
		b = append(b, `,"meta":`...)
		b = append(b, u.Meta...)
	}
	return append(b, '}'), true
}

func appendRaw(b []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string without HTML escaping (realtime-js does not need it and
// it keeps frames identical to what the sender wrote). Invalid UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// String encodes s as a JSON string.
func String(s string) json.RawMessage { return AppendString(nil, s) }

// Int encodes n as a JSON number.
func Int(n int64) json.RawMessage { return strconv.AppendInt(nil, n, 10) }
