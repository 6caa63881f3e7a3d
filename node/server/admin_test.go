package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The client port keeps the client API and the probes; metrics and status (tenant names,
// slots, LSNs) are only on the admin handler.
func TestAdminEndpointsOffTheClientPort(t *testing.T) {
	h := newHarness(t)
	admin := httptest.NewServer(h.srv.AdminHandler())
	t.Cleanup(admin.Close)
	get := func(base, path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		base, name, path string
		want             int
	}{
		{h.url, "client", "/metrics", http.StatusNotFound},
		{h.url, "client", "/status", http.StatusNotFound},
		{h.url, "client", "/debug/pprof/", http.StatusNotFound},
		{h.url, "client", "/healthz", http.StatusOK},
		{h.url, "client", "/readyz", http.StatusOK},
		{h.url, "client", "/api/ping", http.StatusOK},
		{admin.URL, "admin", "/metrics", http.StatusOK},
		{admin.URL, "admin", "/status", http.StatusOK},
		{admin.URL, "admin", "/healthz", http.StatusOK},
		{admin.URL, "admin", "/socket/websocket", http.StatusNotFound},
		{admin.URL, "admin", "/api/ping", http.StatusNotFound},
		{h.url, "client", "/drain", http.StatusNotFound},
	} {
		if got := get(tc.base, tc.path); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.name, tc.path, got, tc.want)
		}
	}
	// preStop: /drain flips readiness.
	if got := get(admin.URL, "/drain"); got != http.StatusOK {
		t.Fatalf("/drain: %d", got)
	}
	if got := get(h.url, "/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz after /drain: %d", got)
	}
}

// A draining node refuses new connections (WebSocket and long poll) with 503 and keeps the ones
// it has: they are closed by the drain, spread over its window.
func TestDrainingRefusesNewConnections(t *testing.T) {
	h := newHarness(t)
	open := h.dial("2.0.0")
	open.send(`["1","1","realtime:before","phx_join",{"config":{}}]`)
	open.expect(`"status":"ok"`)
	h.srv.draining.Store(true)
	ws := strings.Replace(h.url, "http", "ws", 1) + "/socket/websocket?vsn=2.0.0&apikey=" + h.token(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, ws, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("websocket dial while draining: err %v, response %v; want 503", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "Realtime is restarting") {
		t.Errorf("refusal body %q", body)
	}
	lp := &pollClient{t: t, base: h.url + "/socket/longpoll"}
	if _, r := lp.do("GET", "vsn=2.0.0&apikey="+h.token(nil), "", ""); r.Status != 403 || !strings.Contains(r.Error, "Realtime is restarting") {
		t.Errorf("long-poll session while draining: %+v, want refused", r)
	}
	// The socket opened before the drain still works.
	open.send(`[null,"3","phoenix","heartbeat",{}]`)
	open.expect(`"3"`, `"ok"`)
}
