package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The bench speaks the V2 protocol itself (docs/protocol.md#v2-frames, #v2-binary-frames) instead of importing node/phoenix, so
// it measures the node without trusting the node's own codec.

// textFrame encodes a V2 text frame [join_ref, ref, topic, event, payload], or with v1 the V1
// object {"join_ref","ref","topic","event","payload"} (docs/protocol.md#v2-frames).
func textFrame(v1 bool, joinRef, ref, topic, event string, payload any) ([]byte, error) {
	var v any = []any{nullable(joinRef), nullable(ref), topic, event, payload}
	if v1 {
		v = map[string]any{"join_ref": nullable(joinRef), "ref": nullable(ref), "topic": topic, "event": event, "payload": payload}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s frame: %w", event, err)
	}
	return b, nil
}

func orNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("null")
	}
	return r
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// userBroadcastPush encodes a client kind-3 frame with a JSON payload (encoding 1), exactly what
// realtime-js sends for channel.send({type:'broadcast', ...}).
func userBroadcastPush(joinRef, ref, topic, event string, jsonPayload []byte) ([]byte, error) {
	for _, f := range []string{joinRef, ref, topic, event} {
		if len(f) > 255 {
			return nil, fmt.Errorf("field %q longer than 255 bytes", f)
		}
	}
	b := make([]byte, 0, 7+len(joinRef)+len(ref)+len(topic)+len(event)+len(jsonPayload))
	b = append(b, 3, byte(len(joinRef)), byte(len(ref)), byte(len(topic)), byte(len(event)), 0, 1)
	b = append(b, joinRef...)
	b = append(b, ref...)
	b = append(b, topic...)
	b = append(b, event...)
	return append(b, jsonPayload...), nil
}

// userBroadcast is a decoded server kind-4 frame.
type userBroadcast struct {
	Topic, Event, Meta []byte
	Encoding           byte
	Payload            []byte
}

var errNotKind4 = errors.New("not a kind-4 frame")

// decodeUserBroadcast parses a server kind-4 frame without copying (slices alias b).
func decodeUserBroadcast(b []byte) (userBroadcast, error) {
	if len(b) < 5 || b[0] != 4 {
		return userBroadcast{}, errNotKind4
	}
	tl, el, ml := int(b[1]), int(b[2]), int(b[3])
	end := 5 + tl + el + ml
	if len(b) < end {
		return userBroadcast{}, fmt.Errorf("kind-4 frame of %d bytes shorter than its header says (%d)", len(b), end)
	}
	return userBroadcast{
		Topic:    b[5 : 5+tl],
		Event:    b[5+tl : 5+tl+el],
		Meta:     b[5+tl+el : end],
		Encoding: b[4],
		Payload:  b[end:],
	}, nil
}

// reply is the part of a V2 text frame the bench looks at.
type reply struct {
	JoinRef, Ref, Topic, Event string
	Status                     string
	Reason                     string
}

// broadcastEvent marks a broadcast delivery in either text form: `,"broadcast",` is the event
// element of a V2 array, `"event":"broadcast"` the V1 object's event field.
var broadcastV2, broadcastV1 = []byte(`,"broadcast",`), []byte(`"event":"broadcast"`)

// isBroadcastDelivery reports whether a server text frame is a broadcast (not a reply or system
// message) without decoding it. Only the event position matters: payloads are the bench's own.
func isBroadcastDelivery(b []byte) bool {
	if len(b) > 0 && b[0] == '[' {
		i := bytes.Index(b, broadcastV2)
		return i > 0 && bytes.Count(b[:i], []byte{','}) == 2
	}
	return bytes.Contains(b, broadcastV1) && !bytes.Contains(b, []byte(`"event":"phx_reply"`))
}

// decodeText parses a V2 (array) or V1 (object) text frame; payload fields other than
// status/response.reason are skipped.
func decodeText(b []byte) (reply, error) {
	var arr []json.RawMessage
	if len(b) > 0 && b[0] == '{' {
		var obj struct {
			JoinRef json.RawMessage `json:"join_ref"`
			Ref     json.RawMessage `json:"ref"`
			Topic   json.RawMessage `json:"topic"`
			Event   json.RawMessage `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return reply{}, fmt.Errorf("decode V1 text frame: %w", err)
		}
		if len(obj.Topic) == 0 || len(obj.Event) == 0 {
			return reply{}, errors.New("V1 text frame without topic or event")
		}
		arr = []json.RawMessage{orNull(obj.JoinRef), orNull(obj.Ref), orNull(obj.Topic), orNull(obj.Event), orNull(obj.Payload)}
	} else if err := json.Unmarshal(b, &arr); err != nil {
		return reply{}, fmt.Errorf("decode text frame: %w", err)
	}
	if len(arr) < 5 {
		return reply{}, fmt.Errorf("text frame has %d elements, want 5", len(arr))
	}
	var r reply
	var strs [4]*string
	strs[0], strs[1], strs[2], strs[3] = &r.JoinRef, &r.Ref, &r.Topic, &r.Event
	for i, p := range strs {
		if string(arr[i]) == "null" {
			continue
		}
		if err := json.Unmarshal(arr[i], p); err != nil {
			return reply{}, fmt.Errorf("frame element %d: %w", i, err)
		}
	}
	if r.Event == "phx_reply" || r.Event == "system" {
		var p struct {
			Status   string          `json:"status"`
			Response json.RawMessage `json:"response"`
			Message  string          `json:"message"`
		}
		if err := json.Unmarshal(arr[4], &p); err == nil {
			r.Status = p.Status
			var resp struct {
				Reason string `json:"reason"`
			}
			if json.Unmarshal(p.Response, &resp) == nil {
				r.Reason = resp.Reason
			}
			if r.Reason == "" {
				r.Reason = p.Message
			}
		}
	}
	return r, nil
}

// stampKey is where the publisher puts its send time (unix nanoseconds) in every payload.
var stampKey = []byte(`"t":`)

// payloadStamp extracts the send time from a JSON payload like {"t":123,...} without a full
// JSON decode: the bench must parse ~10^5 frames/s on the same two cores as the node.
func payloadStamp(p []byte) (int64, bool) {
	i := bytes.Index(p, stampKey)
	if i < 0 {
		return 0, false
	}
	j := i + len(stampKey)
	k := j
	for k < len(p) && p[k] >= '0' && p[k] <= '9' {
		k++
	}
	if k == j {
		return 0, false
	}
	v, err := strconv.ParseInt(string(p[j:k]), 10, 64)
	return v, err == nil
}

// stampedPayload builds {"t":<unix ns>,"s":<seq>,"pad":"..."} of at least size bytes.
func stampedPayload(t int64, seq int, size int) []byte {
	b := make([]byte, 0, size+48)
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"s":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	if pad := size - len(b) - 10; pad > 0 {
		b = append(b, `,"pad":"`...)
		b = append(b, bytes.Repeat([]byte{'x'}, pad)...)
		b = append(b, '"')
	}
	return append(b, '}')
}
