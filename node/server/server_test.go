package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/auth"
)

func TestHeartbeatAndJoinReplyV2(t *testing.T) {
	h := newHarness(t)
	c := h.dial("2.0.0")
	c.send(`[null,"1","phoenix","heartbeat",{}]`)
	if f, _ := c.next(); f != `[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]` {
		t.Fatalf("heartbeat reply %s", f)
	}
	c.send(`["2","2","realtime:room1","phx_join",{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":false}}]`)
	if f, _ := c.next(); f != `["2","2","realtime:room1","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]` {
		t.Fatalf("join reply %s", f)
	}
}

func TestDefaultTenantOnlyForHostsNamingNoTenant(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:4000": false, "localhost:4000": false, "[::1]:4000": false, "localhost": false,
		"dev.localhost:4000": true, "abc.supabase.co": true,
	} {
		if got := namesTenant(host); got != want {
			t.Errorf("namesTenant(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestHeartbeatV1(t *testing.T) {
	h := newHarness(t)
	c := h.dial("1.0.0")
	c.send(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"12"}`)
	if f, _ := c.next(); f != `{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"12"}` {
		t.Fatalf("heartbeat reply %s", f)
	}
}

func TestBroadcastV1ToV2AndBinary(t *testing.T) {
	h := newHarness(t)
	a, b := h.dial("1.0.0"), h.dial("2.0.0")
	a.send(`{"topic":"realtime:room1","event":"phx_join","payload":{"config":{"broadcast":{"self":true}}},"ref":"1","join_ref":"1"}`)
	a.expect(`"phx_reply"`, `"ok"`)
	b.send(`["1","1","realtime:room1","phx_join",{"config":{}}]`)
	b.expect(`phx_reply`)
	a.send(`{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":1}},"ref":"2","join_ref":"1"}`)
	if f := b.expect(`"broadcast"`); f != `[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}]` {
		t.Fatalf("V2 got %s", f)
	}
	a.expect(`"event":"cursor"`) // self: true
	// kind 3 from the V2 client: V1 gets the JSON object, the sender (self false) gets nothing.
	frame := append([]byte{3, 1, 1, 14, 6, 0, 1}, []byte(`11realtime:room1cursor{"y":2}`)...)
	b.sendBinary(frame)
	if f := a.expect(`"y":2`); f != `{"topic":"realtime:room1","event":"broadcast","payload":{"event":"cursor","payload":{"y":2},"type":"broadcast"},"ref":null}` {
		t.Fatalf("V1 got %s", f)
	}
	b.expectNone(`"y":2`, 200*time.Millisecond)
}

func TestBinaryKind4AndAck(t *testing.T) {
	h := newHarness(t)
	a, b := h.dial("2.0.0"), h.dial("2.0.0")
	a.send(`["1","1","realtime:r","phx_join",{"config":{"broadcast":{"ack":true}}}]`)
	a.expect(`phx_reply`)
	b.send(`["1","1","realtime:r","phx_join",{"config":{}}]`)
	b.expect(`phx_reply`)
	a.sendBinary(append([]byte{3, 1, 1, 10, 1, 0, 0}, []byte("17realtime:re\x00\x01\x02")...))
	if f, _ := a.next(); f != `["1","7","realtime:r","phx_reply",{"status":"ok","response":{}}]` {
		t.Fatalf("ack %s", f)
	}
	f, bin := b.next()
	if want := "\x04\x0a\x01\x00\x00realtime:re\x00\x01\x02"; !bin || f != want {
		t.Fatalf("kind 4 got %q (binary=%v)", f, bin)
	}
	big := strings.Repeat("x", 2000) // tenant limit 1 KB -> 1500 bytes
	a.send(`["1","8","realtime:r","broadcast",{"type":"broadcast","event":"e","payload":"` + big + `"}]`)
	if f := a.expect(`"8"`); f != `["1","8","realtime:r","phx_reply",{"status":"error","response":"payload_size_exceeded"}]` {
		t.Fatalf("oversize ack %s", f)
	}
}

func TestJoinErrorsAndControlEvents(t *testing.T) {
	h := newHarness(t)
	c := h.dial("2.0.0")
	c.send(`["1","1","room","phx_join",{}]`)
	if f, _ := c.next(); f != `[null,"1","room","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]` {
		t.Fatalf("unmatched %s", f)
	}
	c.send(`["2","2","realtime:","phx_join",{}]`)
	c.expect(`"TopicNameRequired: You must provide a topic name"`)
	c.send(`["3","3","realtime:a","phx_join",{"config":{},"access_token":"not-a-jwt"}]`)
	c.expect(`"MalformedJWT: The token provided is not a valid JWT"`)
	expired := h.token(map[string]any{"role": "anon", "exp": time.Now().Add(-time.Minute).Unix()})
	c.send(`["4","4","realtime:a","phx_join",{"config":{},"access_token":"` + expired + `"}]`)
	c.expect(`InvalidJWTToken: Token has expired`)
	for i, topic := range []string{"a", "b", "c"} {
		c.send(`["j` + topic + `","j` + topic + `","realtime:` + topic + `","phx_join",{"config":{}}]`)
		c.expect(`"j`+topic+`"`, `"ok"`)
		_ = i
	}
	c.send(`["jd","jd","realtime:d","phx_join",{"config":{}}]`)
	c.expect(`"ChannelRateLimitReached: Too many channels"`)
	// Duplicate join replaces the channel: phx_close for the old join_ref, then the new reply.
	c.send(`["ja2","ja2","realtime:a","phx_join",{"config":{}}]`)
	c.expect(`["ja","ja","realtime:a","phx_close",{}]`)
	c.expect(`"ja2"`, `"ok"`)
	c.send(`["ja2","9","realtime:a","phx_leave",{}]`)
	c.expect(`["ja2","9","realtime:a","phx_reply",{"status":"ok","response":{}}]`)
	c.expect(`["ja2","ja2","realtime:a","phx_close",{}]`)
	c.send(`[null,"10","realtime:zz","broadcast",{}]`)
	c.expect(`[null,"10","realtime:zz","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
	// Malformed frames are dropped and the connection stays usable.
	c.send(`not json`)
	c.send(`[1,2]`)
	c.sendBinary([]byte{9, 9})
	c.send(`[null,"11","phoenix","heartbeat",{}]`)
	c.expect(`"11"`, `"ok"`)
}

func TestPresenceStateAndDiff(t *testing.T) {
	h := newHarness(t)
	a, b := h.dial("2.0.0"), h.dial("2.0.0")
	a.send(`["1","1","realtime:p","phx_join",{"config":{"presence":{"key":"ana","enabled":true}}}]`)
	a.expect(`phx_reply`)
	a.expect(`["1",null,"realtime:p","presence_state",{}]`)
	a.send(`["1","2","realtime:p","presence",{"type":"presence","event":"track","payload":{"user":"ana"}}]`)
	// The diff and the reply may arrive in either order.
	a.expectAll([]string{`["1","2","realtime:p","phx_reply",{"status":"ok","response":{}}]`},
		[]string{`presence_diff`, `"joins":{"ana":{"metas":[{"phx_ref":`, `"user":"ana"`})
	b.send(`["1","1","realtime:p","phx_join",{"config":{"presence":{"key":"bo","enabled":true}}}]`)
	b.expect(`phx_reply`)
	b.expect(`presence_state`, `"ana"`)
	a.send(`["1","3","realtime:p","presence",{"type":"presence","event":"track","payload":"nope"}]`)
	a.expect(`"Presence track payload must be a map"`)
	_ = a.ws.CloseNow()
	b.expect(`presence_diff`, `"leaves":{"ana"`)
}

func TestConnectRejections(t *testing.T) {
	h := newHarness(t)
	base := h.url + "/socket/websocket?vsn=2.0.0"
	tests := []struct {
		name, url string
		status    int
		body      string
	}{
		{"missing key", base, 401, `{"error":"API key is missing"}`},
		{"malformed", base + "&apikey=nope", 401, `{"error":"The token provided is not a valid JWT"}`},
		{"expired", base + "&apikey=" + h.token(map[string]any{"role": "anon", "exp": 1}), 401, `{"error":"Token has expired"}`},
		{"no role", base + "&apikey=" + h.token(map[string]any{"exp": time.Now().Add(time.Hour).Unix()}), 401, "{\"error\":\"Fields `role` and `exp` are required in JWT\"}"},
		{"bad vsn", h.url + "/socket/websocket?vsn=3.0.0&apikey=x", 403, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tc.url, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			if resp.StatusCode != tc.status || strings.TrimSpace(buf.String()) != tc.body {
				t.Fatalf("got %d %s", resp.StatusCode, buf.String())
			}
		})
	}
}

func TestRESTBroadcast(t *testing.T) {
	h := newHarness(t)
	c := h.dial("2.0.0")
	c.send(`["1","1","realtime:room1","phx_join",{"config":{}}]`)
	c.expect(`phx_reply`)
	post := func(path, ct, body string) int {
		req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Authorization", "Bearer "+h.token(nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("missing CORS header on %s", path)
		}
		return resp.StatusCode
	}
	if s := post("/api/broadcast", "application/json", `{"messages":[{"topic":"room1","event":"note","payload":{"t":"hi"},"id":"m1"}]}`); s != 202 {
		t.Fatalf("batch status %d", s)
	}
	if f := c.expect(`"note"`); f != `[null,null,"realtime:room1","broadcast",{"event":"note","payload":{"t":"hi"},"type":"broadcast","meta":{"id":"m1"}}]` {
		t.Fatalf("batch delivery %s", f)
	}
	if s := post("/realtime/v1/api/broadcast/room1/events/ev", "application/json", `{ "a" : 1 }`); s != 202 {
		t.Fatalf("single status %d", s)
	}
	if f, bin := c.next(); !bin || f != "\x04\x0e\x02\x00\x01realtime:room1ev{\"a\":1}" {
		t.Fatalf("single delivery %q", f)
	}
	if s := post("/api/broadcast/room1/events/ev", "text/plain", `x`); s != 415 {
		t.Fatalf("content type status %d", s)
	}
	if s := post("/api/broadcast", "application/json", `{"messages":[{"topic":"room1"}]}`); s != 422 {
		t.Fatalf("invalid batch status %d", s)
	}
}

func TestMetricsNeedTheMetricsJWTWhenConfigured(t *testing.T) {
	h := newHarness(t)
	admin := httptest.NewServer(h.srv.AdminHandler())
	t.Cleanup(admin.Close)
	keys, err := auth.NewKeySet([]byte("metrics-secret-0123456789-0123456789"), nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(token string) int {
		req, _ := http.NewRequest("GET", admin.URL+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(""); s != 200 {
		t.Fatalf("open metrics: %d", s)
	}
	h.srv.opts.MetricsKeys = keys
	good, _ := auth.SignHS256([]byte("metrics-secret-0123456789-0123456789"), map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	if s := get(""); s != 403 {
		t.Fatalf("no token: %d", s)
	}
	if s := get(h.token(nil)); s != 403 {
		t.Fatalf("tenant token accepted for metrics: %d", s)
	}
	if s := get(good); s != 200 {
		t.Fatalf("metrics token: %d", s)
	}
}
