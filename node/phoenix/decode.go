package phoenix

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// DecodeText decodes a text frame with the socket's serializer.
func DecodeText(v Version, data []byte) (Message, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Message{}, ErrEmpty
	}
	if v == V2 {
		return decodeArray(data)
	}
	return decodeObject(data)
}

func decodeArray(data []byte) (Message, error) {
	if data[0] != '[' {
		return Message{}, ErrNotArray
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil || len(items) < 5 {
		return Message{}, ErrNotArray
	}
	m := Message{Payload: items[4]}
	var err error
	if m.JoinRef, err = ref(items[0]); err != nil {
		return Message{}, err
	}
	if m.Ref, err = ref(items[1]); err != nil {
		return Message{}, err
	}
	if m.Topic, err = str(items[2], ErrBadTopic); err != nil {
		return Message{}, err
	}
	if m.Event, err = str(items[3], ErrBadEvent); err != nil {
		return Message{}, err
	}
	return m, nil
}

type v1Object struct {
	Topic   *json.RawMessage `json:"topic"`
	Event   *json.RawMessage `json:"event"`
	Payload *json.RawMessage `json:"payload"`
	Ref     *json.RawMessage `json:"ref"`
	JoinRef *json.RawMessage `json:"join_ref"`
}

func decodeObject(data []byte) (Message, error) {
	if data[0] != '{' {
		return Message{}, ErrNotObject
	}
	var o v1Object
	if err := json.Unmarshal(data, &o); err != nil || o.Topic == nil || o.Event == nil || o.Payload == nil || o.Ref == nil {
		return Message{}, ErrNotObject
	}
	m := Message{Payload: *o.Payload}
	var err error
	if m.Ref, err = ref(*o.Ref); err != nil {
		return Message{}, err
	}
	if o.JoinRef != nil {
		if m.JoinRef, err = ref(*o.JoinRef); err != nil {
			return Message{}, err
		}
	}
	if m.Topic, err = str(*o.Topic, ErrBadTopic); err != nil {
		return Message{}, err
	}
	if m.Event, err = str(*o.Event, ErrBadEvent); err != nil {
		return Message{}, err
	}
	return m, nil
}

// ref validates a ref value; null becomes nil so it re-encodes as null.
func ref(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '"' || raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		return raw, nil
	}
	return nil, ErrBadRef
}

func str(raw json.RawMessage, bad error) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", bad
	}
	if !utf8.ValidString(s) {
		return "", bad
	}
	return s, nil
}

// DecodeBinary decodes a V2 binary frame from a client: kind 0 (push) or kind 3 (user broadcast).
func DecodeBinary(data []byte) (Message, error) {
	if len(data) == 0 {
		return Message{}, ErrEmpty
	}
	switch data[0] {
	case 0:
		return decodePush(data)
	case 3:
		return decodeUserPush(data)
	}
	return Message{}, ErrUnknownKind
}

// decodePush: kind 0, join_ref_len, ref_len, topic_len, event_len, strings, payload (JSON).
func decodePush(data []byte) (Message, error) {
	if len(data) < 5 {
		return Message{}, ErrShortBinary
	}
	fields, rest, err := splitFields(data[5:], data[1:5])
	if err != nil {
		return Message{}, err
	}
	m := Message{JoinRef: refString(fields[0]), Ref: refString(fields[1]), Topic: string(fields[2]), Event: string(fields[3])}
	if !utf8.Valid(fields[2]) {
		return Message{}, ErrBadTopic
	}
	if !json.Valid(rest) {
		return Message{}, ErrInvalidPayload
	}
	m.Payload = json.RawMessage(rest)
	return m, nil
}

// decodeUserPush: kind 3, jr_len, ref_len, topic_len, event_len, meta_len, encoding, strings, payload.
func decodeUserPush(data []byte) (Message, error) {
	if len(data) < 7 {
		return Message{}, ErrShortBinary
	}
	enc := data[6]
	if enc != EncodingBinary && enc != EncodingJSON {
		return Message{}, ErrBadEncoding
	}
	lens := []byte{data[1], data[2], data[3], data[4], data[5]}
	fields, rest, err := splitFields(data[7:], lens)
	if err != nil {
		return Message{}, err
	}
	if !utf8.Valid(fields[2]) {
		return Message{}, ErrBadTopic
	}
	if enc == EncodingJSON && !json.Valid(rest) {
		return Message{}, ErrInvalidPayload
	}
	return Message{
		JoinRef: refString(fields[0]),
		Ref:     refString(fields[1]),
		Topic:   string(fields[2]),
		Event:   EventBroadcast,
		User:    &UserBroadcast{Event: string(fields[3]), Encoding: enc, Meta: fields[4], Payload: rest},
	}, nil
}

func splitFields(body []byte, lens []byte) ([][]byte, []byte, error) {
	out := make([][]byte, len(lens))
	for i, n := range lens {
		if len(body) < int(n) {
			return nil, nil, ErrShortBinary
		}
		out[i], body = body[:n:n], body[n:]
	}
	return out, body, nil
}

// refString turns a binary ref into the JSON string the client would have sent; empty means absent.
func refString(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return AppendString(nil, string(b))
}

// DecodeUserBroadcast decodes a server kind-4 frame (the inverse of EncodeUserBroadcast), for
// transports that carry text only (long poll).
func DecodeUserBroadcast(data []byte) (topic string, u *UserBroadcast, err error) {
	if len(data) < 5 || data[0] != 4 {
		return "", nil, ErrUnknownKind
	}
	tl, el, ml, enc := int(data[1]), int(data[2]), int(data[3]), data[4]
	if enc != EncodingJSON && enc != EncodingBinary {
		return "", nil, ErrBadEncoding
	}
	body := data[5:]
	if len(body) < tl+el+ml {
		return "", nil, ErrShortBinary
	}
	return string(body[:tl]), &UserBroadcast{Event: string(body[tl : tl+el]), Encoding: enc,
		Meta: body[tl+el : tl+el+ml], Payload: body[tl+el+ml:]}, nil
}
