package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
