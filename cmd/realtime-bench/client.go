package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// dialer opens V2 WebSocket connections to the node, spreading them over several loopback source
// addresses (127.0.0.1, 127.0.0.2, ...) so tens of thousands of sockets do not exhaust one
// address's ephemeral ports (TIME_WAIT from a previous scenario included).
type dialer struct {
	url     string
	v1      bool
	host    string
	clients []*http.Client
	next    atomic.Uint64
}

func newDialer(addr, host, token, vsn string, sources int) *dialer {
	q := url.Values{"apikey": {token}, "vsn": {vsn}}
	d := &dialer{url: "ws://" + addr + "/socket/websocket?" + q.Encode(), host: host, v1: vsn == "1.0.0"}
	for i := 0; i < max(1, sources); i++ {
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}
		nd := &net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
		d.clients = append(d.clients, &http.Client{Transport: &http.Transport{
			DialContext:       nd.DialContext,
			DisableKeepAlives: true,
		}})
	}
	return d
}

// client is one bench socket. Its read loop counts kind-4 deliveries and, when enabled, records
// publish-to-receive latency from the stamp in the payload.
type client struct {
	conn *websocket.Conn
	v1   bool // vsn=1.0.0: JSON object frames
	ref  atomic.Uint64

	mu      sync.Mutex
	pending map[string]chan reply // ref -> waiter
	lat     []uint32              // latency samples in microseconds
	system  []string              // system/close messages seen, for the report

	delivered  atomic.Int64
	recordLat  atomic.Bool
	closed     chan struct{}
	closeError error
}

func (d *dialer) dial(ctx context.Context) (*client, error) {
	hc := d.clients[d.next.Add(1)%uint64(len(d.clients))]
	conn, resp, err := websocket.Dial(ctx, d.url, &websocket.DialOptions{HTTPClient: hc, Host: d.host})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(16 << 20)
	c := &client{conn: conn, v1: d.v1, pending: map[string]chan reply{}, closed: make(chan struct{})}
	return c, nil
}

// run is the read loop; it returns when the connection ends or ctx is done.
func (c *client) run(ctx context.Context) {
	defer close(c.closed)
	var buf bytes.Buffer
	for {
		typ, r, err := c.conn.Reader(ctx)
		if err != nil {
			c.closeError = err
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			c.closeError = err
			return
		}
		if typ == websocket.MessageBinary {
			c.onBinary(buf.Bytes())
			continue
		}
		c.onText(buf.Bytes())
	}
}

func (c *client) onBinary(b []byte) {
	ub, err := decodeUserBroadcast(b)
	if err != nil {
		return
	}
	c.delivered.Add(1)
	c.recordStamp(ub.Payload)
}

// recordStamp records publish-to-receive latency from the send time stamped in b (a payload or a
// whole text frame: the stamp key occurs once).
func (c *client) recordStamp(b []byte) {
	if !c.recordLat.Load() {
		return
	}
	if ts, ok := payloadStamp(b); ok {
		us := time.Since(time.Unix(0, ts)).Microseconds()
		c.mu.Lock()
		c.lat = append(c.lat, uint32(min(max(us, 0), int64(^uint32(0)))))
		c.mu.Unlock()
	}
}

func (c *client) onText(b []byte) {
	if isBroadcastDelivery(b) {
		// Fan-out deliveries are counted without a JSON decode: the bench parses ~10^5 frames/s
		// on the same two cores as the node.
		c.delivered.Add(1)
		c.recordStamp(b)
		return
	}
	r, err := decodeText(b)
	if err != nil {
		return
	}
	switch r.Event {
	case "phx_reply":
		c.mu.Lock()
		ch := c.pending[r.Ref]
		delete(c.pending, r.Ref)
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	case "system", "phx_close", "phx_error":
		c.mu.Lock()
		c.system = append(c.system, r.Event+": "+r.Reason)
		c.mu.Unlock()
	case "broadcast":
		c.delivered.Add(1)
		c.recordStamp(b)
	}
}

func (c *client) nextRef() string { return strconv.FormatUint(c.ref.Add(1), 10) }

// request sends a text frame and waits for its phx_reply; joinRef "*" means "the request's own
// ref" (a phx_join). It returns the reply and the ref used. run must be active.
func (c *client) request(ctx context.Context, joinRef, topic, event string, payload any) (reply, string, error) {
	ref := c.nextRef()
	if joinRef == "*" {
		joinRef = ref
	}
	r, err := c.await(ctx, ref, joinRef, topic, event, payload)
	return r, ref, err
}

func (c *client) await(ctx context.Context, ref, joinRef, topic, event string, payload any) (reply, error) {
	frame, err := textFrame(c.v1, joinRef, ref, topic, event, payload)
	if err != nil {
		return reply{}, err
	}
	ch := make(chan reply, 1)
	c.mu.Lock()
	c.pending[ref] = ch
	c.mu.Unlock()
	if err := c.conn.Write(ctx, websocket.MessageText, frame); err != nil {
		return reply{}, fmt.Errorf("write %s: %w", event, err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-c.closed:
		c.forget(ref)
		return reply{}, fmt.Errorf("%s: connection closed: %v", event, c.closeError)
	case <-ctx.Done():
		c.forget(ref)
		return reply{}, fmt.Errorf("%s on %s: no reply: %w", event, topic, ctx.Err())
	}
}

func (c *client) forget(ref string) {
	c.mu.Lock()
	delete(c.pending, ref)
	c.mu.Unlock()
}

// joinPayload is what realtime-js sends for a plain public channel (docs/protocol.md#join-payload).
func joinPayload(token string) map[string]any {
	return map[string]any{
		"config": map[string]any{
			"broadcast":        map[string]any{"ack": false, "self": false},
			"presence":         map[string]any{"key": "", "enabled": false},
			"postgres_changes": []any{},
			"private":          false,
		},
		"access_token": token,
	}
}

var errJoinRefused = errors.New("join refused")

// join joins topic ("realtime:<sub-topic>") and returns the join ref.
func (c *client) join(ctx context.Context, topic, token string) (string, error) {
	r, ref, err := c.request(ctx, "*", topic, "phx_join", joinPayload(token))
	if err != nil {
		return "", err
	}
	if r.Status != "ok" {
		return "", fmt.Errorf("%w: %s: %s", errJoinRefused, topic, r.Reason)
	}
	return ref, nil
}

// publish sends one kind-3 JSON broadcast (no ack requested).
func (c *client) publish(ctx context.Context, joinRef, topic, event string, payload []byte) error {
	frame, err := userBroadcastPush(joinRef, c.nextRef(), topic, event, payload)
	if err != nil {
		return err
	}
	if err := c.conn.Write(ctx, websocket.MessageBinary, frame); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// publishText sends one broadcast push as a text frame (what realtime-js sends with the V1
// serializer): payload {"type":"broadcast","event":E,"payload":P}.
func (c *client) publishText(ctx context.Context, joinRef, topic, event string, payload []byte) error {
	frame, err := textFrame(c.v1, joinRef, c.nextRef(), topic, "broadcast",
		map[string]any{"type": "broadcast", "event": event, "payload": json.RawMessage(payload)})
	if err != nil {
		return err
	}
	if err := c.conn.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// heartbeat sends a heartbeat without waiting for the reply (the read loop drops it).
func (c *client) heartbeat(ctx context.Context) error {
	frame, err := textFrame(c.v1, "", c.nextRef(), "phoenix", "heartbeat", map[string]any{})
	if err != nil {
		return err
	}
	return c.conn.Write(ctx, websocket.MessageText, frame)
}

func (c *client) close() {
	_ = c.conn.CloseNow()
}

// takeLatencies returns and clears the recorded samples.
func (c *client) takeLatencies() []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lat
	c.lat = nil
	return l
}

func (c *client) systemMessages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.system...)
}
