package server

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAccessTokenRefreshAndExpiry(t *testing.T) {
	h := newHarness(t)
	c := h.dial("2.0.0")
	short := h.token(map[string]any{"role": "anon", "exp": time.Now().Add(2 * time.Second).Unix()})
	c.send(`["1","1","realtime:r","phx_join",{"config":{},"access_token":"` + short + `"}]`)
	c.expect(`phx_reply`, `"ok"`)
	// A valid refresh gets no reply and keeps the channel past the first token's expiry.
	long := h.token(map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})
	c.send(`["1","2","realtime:r","access_token",{"access_token":"` + long + `"}]`)
	c.expectNone(`phx_close`, 3*time.Second)
	// An expired token pushed later shuts the channel with the system message, then phx_close.
	expired := h.token(map[string]any{"role": "anon", "exp": time.Now().Add(-10 * time.Second).Unix()})
	c.send(`["1","3","realtime:r","access_token",{"access_token":"` + expired + `"}]`)
	f := c.expect(`"system"`)
	if !strings.Contains(f, `{"extension":"system","status":"error","message":"Token has expired `) || !strings.Contains(f, `"channel":"r"`) {
		t.Fatalf("system message %s", f)
	}
	c.expect(`["1","1","realtime:r","phx_close",{}]`)
}

func TestTokenExpiryClosesChannel(t *testing.T) {
	h := newHarness(t)
	c := h.dial("1.0.0")
	short := h.token(map[string]any{"role": "anon", "exp": time.Now().Add(1 * time.Second).Unix()})
	c.send(`{"topic":"realtime:r","event":"phx_join","payload":{"config":{},"access_token":"` + short + `"},"ref":"1","join_ref":"1"}`)
	c.expect(`phx_reply`, `"ok"`)
	c.expect(`"event":"system"`, `Token has expired`)
	c.expect(`"event":"phx_close"`)
}

func TestTenantChangeDisconnectsOnlyThatTenant(t *testing.T) {
	h := newHarness(t)
	c := h.dial("2.0.0")
	c.send(`["1","1","realtime:r","phx_join",{"config":{}}]`)
	c.expect(`phx_reply`)
	// Rotate the JWT secret in the file: the tenant's sockets hear "Server requested disconnect"
	// and are closed with 1012 (service restart).
	path := h.tenantsPath
	if err := os.WriteFile(path, []byte(fmt.Sprintf(tenantsYAML, testSecret+"-rotated")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.tenants.Reload(); err != nil {
		t.Fatal(err)
	}
	c.expect(`["1",null,"realtime:r","system",{"extension":"system","status":"ok","message":"Server requested disconnect"}]`)
	if err := c.waitClosed(5 * time.Second); websocket.CloseStatus(err) != websocket.StatusServiceRestart {
		t.Fatalf("close = %v, want 1012", err)
	}
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	h := newHarness(t)
	h.srv.opts.Socket.QueueFrames = 8 // tiny queue so a client that never reads overflows quickly
	slow := h.dialOpt("2.0.0", false)
	slow.send(`["1","1","realtime:flood","phx_join",{"config":{}}]`)
	pub := h.dial("2.0.0")
	pub.send(`["1","1","realtime:flood","phx_join",{"config":{"broadcast":{"ack":true}}}]`)
	pub.expect(`phx_reply`)
	payload := `{"type":"broadcast","event":"e","payload":"` + strings.Repeat("x", 900) + `"}`
	for i := 0; i < 5000; i++ {
		pub.send(`["1","` + fmt.Sprint(i+2) + `","realtime:flood","broadcast",` + payload + `]`)
		pub.next() // the publisher is never blocked: every push is acked
	}
	// The server gave up on the client that never reads: its slow-consumer counter moved, and the
	// publisher above was acked for every push all along.
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(h.srv.opts.Socket.Metrics.SlowConsumers) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("slow consumer was not disconnected")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
