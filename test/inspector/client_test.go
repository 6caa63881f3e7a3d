package inspector

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// v1Client is the test's second client: a plain V1 (JSON object) socket, independent of the page.
type v1Client struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan string
	ref    int
	cancel context.CancelFunc
}

func dialV1(t *testing.T, endpoint, token string) *v1Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, endpoint+"/websocket?vsn=1.0.0&apikey="+token, nil)
	if err != nil {
		t.Fatalf("dial the second client: %v", err)
	}
	readCtx, stop := context.WithCancel(context.Background())
	c := &v1Client{t: t, ws: ws, frames: make(chan string, 1024), cancel: stop}
	t.Cleanup(c.close)
	// One reader for the connection's life; it ends when the connection closes.
	go func() {
		defer close(c.frames)
		for {
			_, data, err := ws.Read(readCtx)
			if err != nil {
				return
			}
			select {
			case c.frames <- string(data):
			default: // the test reads what it needs; never block the reader
			}
		}
	}()
	return c
}

func (c *v1Client) push(topic, event string, payload any) {
	c.t.Helper()
	c.ref++
	msg, err := json.Marshal(map[string]any{"topic": "realtime:" + topic, "event": event, "payload": payload,
		"ref": strconv.Itoa(c.ref), "join_ref": "1"})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		c.t.Fatalf("second client push %s: %v", event, err)
	}
}

func (c *v1Client) join(topic string, payload any) {
	c.t.Helper()
	c.push(topic, "phx_join", payload)
	c.expect(c.t, "phx_reply", `"status":"ok"`)
}

// expect waits for a frame with the event that contains every one of subs.
func (c *v1Client) expect(t *testing.T, event string, subs ...string) {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				t.Fatalf("second client closed while waiting for %s %v", event, subs)
			}
			if !strings.Contains(f, `"event":"`+event+`"`) {
				continue
			}
			all := true
			for _, s := range subs {
				all = all && strings.Contains(f, s)
			}
			if all {
				return
			}
		case <-timeout:
			t.Fatalf("second client: no %s frame with %v within %s", event, subs, wait)
		}
	}
}

func (c *v1Client) close() {
	_ = c.ws.Close(websocket.StatusNormalClosure, "done")
	c.cancel()
}
