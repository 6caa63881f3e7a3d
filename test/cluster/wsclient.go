package clustertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/coder/websocket"
)

// WSClient is a minimal Phoenix V2 (vsn 2.0.0) client for benchmarks and Go-side checks: text
// frames out, text or binary kind 4 frames in. It is written from docs/protocol.md#v2-frames and #v2-binary-frames, not with
// node/phoenix, so it does not trust the code under test.
type WSClient struct {
	conn    *websocket.Conn
	ref     int
	joinRef string
	wire    string // "realtime:<sub-topic>" once joined
}

// Broadcast is one broadcast received by a WSClient.
type Broadcast struct {
	Event   string
	Payload json.RawMessage // the user payload (the "payload" field of the broadcast object)
}

// DialV2 opens a V2 socket to n with token as apikey.
func DialV2(ctx context.Context, n *Node, token string) (*WSClient, error) {
	u := "ws://" + n.HTTPAddr + "/socket/websocket?vsn=2.0.0&apikey=" + url.QueryEscape(token)
	conn, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", n.Spec.Name, err)
	}
	_ = resp
	conn.SetReadLimit(1 << 20)
	return &WSClient{conn: conn}, nil
}

// Close closes the socket.
func (c *WSClient) Close() { _ = c.conn.Close(websocket.StatusNormalClosure, "") }

func (c *WSClient) nextRef() string {
	c.ref++
	return strconv.Itoa(c.ref)
}

func (c *WSClient) write(ctx context.Context, frame []any) error {
	b, err := json.Marshal(frame)
	if err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// Join joins realtime:<sub> (public, presence off) and waits for an ok reply.
func (c *WSClient) Join(ctx context.Context, sub string, self bool) error {
	c.joinRef, c.wire = c.nextRef(), "realtime:"+sub
	payload := map[string]any{"config": map[string]any{
		"broadcast": map[string]any{"self": self, "ack": false},
		"presence":  map[string]any{"enabled": false, "key": ""},
		"private":   false, "postgres_changes": []any{},
	}}
	if err := c.write(ctx, []any{c.joinRef, c.joinRef, c.wire, "phx_join", payload}); err != nil {
		return err
	}
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("await join reply: %w", err)
		}
		var f []json.RawMessage
		if json.Unmarshal(data, &f) != nil || len(f) < 5 {
			continue
		}
		var event string
		_ = json.Unmarshal(f[3], &event)
		if event != "phx_reply" {
			continue
		}
		var reply struct {
			Status   string          `json:"status"`
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(f[4], &reply); err != nil {
			return fmt.Errorf("decode join reply: %w", err)
		}
		if reply.Status != "ok" {
			return fmt.Errorf("join %s refused: %s", c.wire, reply.Response)
		}
		return nil
	}
}

// Push sends one frame [joinRef, ref, topic, event, payload] and returns its ref, for callers
// that drive several channels on one socket (Join/Send keep one channel).
func (c *WSClient) Push(ctx context.Context, joinRef, topic, event string, payload any) (string, error) {
	ref := c.nextRef()
	if joinRef == "" {
		joinRef = ref
	}
	return ref, c.write(ctx, []any{joinRef, ref, topic, event, payload})
}

// AwaitOK reads frames until n replies arrived, failing on the first non-ok one.
func (c *WSClient) AwaitOK(ctx context.Context, n int) error {
	for n > 0 {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("await %d replies: %w", n, err)
		}
		var f []json.RawMessage
		if json.Unmarshal(data, &f) != nil || len(f) < 5 || string(f[3]) != `"phx_reply"` {
			continue
		}
		var reply struct {
			Status   string          `json:"status"`
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(f[4], &reply); err != nil || reply.Status != "ok" {
			return fmt.Errorf("reply on %s: %s %s", f[2], reply.Status, reply.Response)
		}
		n--
	}
	return nil
}

// Send broadcasts event with a JSON payload on the joined channel.
func (c *WSClient) Send(ctx context.Context, event string, payload json.RawMessage) error {
	return c.write(ctx, []any{c.joinRef, c.nextRef(), c.wire, "broadcast",
		map[string]any{"type": "broadcast", "event": event, "payload": payload}})
}

// Next returns the next broadcast received, skipping other frames.
func (c *WSClient) Next(ctx context.Context) (Broadcast, error) {
	for {
		typ, data, err := c.conn.Read(ctx)
		if err != nil {
			return Broadcast{}, fmt.Errorf("read: %w", err)
		}
		b, ok, err := parseBroadcast(typ, data)
		if err != nil {
			return Broadcast{}, err
		}
		if ok {
			return b, nil
		}
	}
}

// parseBroadcast decodes a V2 text broadcast or a binary kind 4 frame (docs/protocol.md#v2-binary-frames: kind, topic
// length, event length, metadata length, encoding, then the fields and the payload).
func parseBroadcast(typ websocket.MessageType, data []byte) (Broadcast, bool, error) {
	if typ == websocket.MessageBinary {
		if len(data) < 5 || data[0] != 4 {
			return Broadcast{}, false, nil
		}
		tl, el, ml := int(data[1]), int(data[2]), int(data[3])
		off := 5 + tl
		if len(data) < off+el+ml {
			return Broadcast{}, false, errors.New("short kind 4 frame")
		}
		event := string(data[off : off+el])
		return Broadcast{Event: event, Payload: json.RawMessage(data[off+el+ml:])}, true, nil
	}
	var f []json.RawMessage
	if err := json.Unmarshal(data, &f); err != nil || len(f) < 5 {
		return Broadcast{}, false, nil
	}
	var event string
	_ = json.Unmarshal(f[3], &event)
	if event != "broadcast" {
		return Broadcast{}, false, nil
	}
	var inner struct {
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(f[4], &inner); err != nil {
		return Broadcast{}, false, fmt.Errorf("decode broadcast payload: %w", err)
	}
	return Broadcast{Event: inner.Event, Payload: inner.Payload}, true, nil
}
