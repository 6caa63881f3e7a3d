package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTenantFromHostWithoutDefault checks docs/protocol.md#tenant-from-host and #connect-checks on a node started without
// --default-tenant: the tenant comes only from the first label of Host, and an unknown one is
// refused with the bodies of docs/protocol.md#connect-checks. (With a default tenant, realtime-js on 127.0.0.1 would always
// resolve, so this is the unambiguous place to assert the 404.)
func TestTenantFromHostWithoutDefault(t *testing.T) {
	tenants, err := WriteTenants(t.TempDir(), []Tenant{{ExternalID: "realtime-dev", JWTSecret: defaultSecret}})
	if err != nil {
		t.Fatal(err)
	}
	node := StartNode(t, NodeOptions{TenantsFile: tenants})
	token := MustSign([]byte(defaultSecret), Claims(time.Hour))
	port := node.Addr[strings.LastIndex(node.Addr, ":")+1:]

	tests := []struct {
		name, host   string
		path, method string
		wantStatus   int
		wantBody     map[string]any
	}{
		{"upgrade, known tenant", "realtime-dev.localhost:" + port, "/socket/websocket", "GET", http.StatusSwitchingProtocols, nil},
		{"upgrade, Host case-insensitive", "Realtime-Dev.example.com", "/realtime/v1/websocket", "GET", http.StatusSwitchingProtocols, nil},
		{"upgrade, IP host names no tenant", node.Addr, "/socket/websocket", "GET", http.StatusNotFound, map[string]any{"error": "Tenant not found"}},
		{"upgrade, unknown tenant", "nosuch.localhost:" + port, "/socket/websocket", "GET", http.StatusNotFound, map[string]any{"error": "Tenant not found"}},
		{"REST, unknown tenant", "nosuch.localhost:" + port, "/api/broadcast", "POST", http.StatusUnauthorized, map[string]any{"message": "Tenant not found in database"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, node, tt.method, tt.path, token)
			req.Host = tt.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body []byte
			if resp.StatusCode != http.StatusSwitchingProtocols { // a 101 body is the live socket
				body, _ = io.ReadAll(resp.Body)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s (Host %s): status %d, want %d; body %s", tt.method, tt.path, tt.host, resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody == nil {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if len(got) != len(tt.wantBody) || got[firstKey(tt.wantBody)] != tt.wantBody[firstKey(tt.wantBody)] {
				t.Fatalf("body %s, want %v", body, tt.wantBody)
			}
		})
	}
}

func newRequest(t *testing.T, node *Node, method, path, token string) *http.Request {
	t.Helper()
	u := node.HTTPURL + path
	var body io.Reader
	if method == "GET" {
		u += "?" + url.Values{"apikey": {token}, "vsn": {"2.0.0"}}.Encode()
	} else {
		body = strings.NewReader(`{"messages":[{"topic":"t","event":"e","payload":{}}]}`)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == "GET" {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	} else {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("apikey", token)
	}
	return req
}

func firstKey(m map[string]any) string {
	for k := range m {
		return k
	}
	return ""
}
