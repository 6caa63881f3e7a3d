package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/channel"
)

const apiSecret = "management-api-secret-0123456789-0123456789"

func tenantAPIHarness(t *testing.T, yaml string, wire func(*channel.Deps)) *harness {
	h := newHarnessWith(t, yaml, wire)
	h.srv.tenantAPI = newTenantAPI(&TenantAPIOptions{Secrets: [][]byte{[]byte(apiSecret)}, Blocklist: []string{blocked}, Node: "node-a", Region: "eu-west"})
	return h
}

var blocked, _ = auth.SignHS256([]byte(apiSecret), map[string]any{"sub": "revoked"})

func apiGet(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Upstream: router.ex (scope "/api", :tenant_api), TenantController.health/2 and show/2.
func TestTenantAPIAuthAndShow(t *testing.T) {
	h := tenantAPIHarness(t, fmt.Sprintf(tenantWithDatabaseYAML, testSecret), nil)
	good, _ := auth.SignHS256([]byte(apiSecret), map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	expired, _ := auth.SignHS256([]byte(apiSecret), map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	for name, tok := range map[string]string{"none": "", "tenant token": h.token(nil), "expired": expired, "blocklisted": blocked} {
		for _, path := range []string{"/api/tenants/dev", "/api/tenants/dev/health"} {
			if code, body := apiGet(t, "GET", h.url+path, tok); code != 403 || body != "" {
				t.Fatalf("%s on %s: %d %q", name, path, code, body)
			}
		}
	}
	if code, body := apiGet(t, "GET", h.url+"/api/tenants/nope/health", good); code != 404 || !strings.Contains(body, `"message":"not found"`) {
		t.Fatalf("unknown tenant: %d %s", code, body)
	}
	code, body := apiGet(t, "GET", h.url+"/api/tenants/dev", good)
	if code != 200 || strings.Contains(body, testSecret) || strings.Contains(strings.ToLower(body), "password") || strings.Contains(body, "jwt") {
		t.Fatalf("show: %d %s", code, body)
	}
	var show struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &show); err != nil || show.Data["external_id"] != "dev" || show.Data["max_channels_per_client"] != float64(3) {
		t.Fatalf("show body %s (%v)", body, err)
	}
}

func TestTenantHealth(t *testing.T) {
	rep := &fakeReplication{after: 0}
	h := tenantAPIHarness(t, fmt.Sprintf(tenantsYAML, testSecret), func(d *channel.Deps) { d.Replication = rep })
	good, _ := auth.SignHS256([]byte(apiSecret), map[string]any{"iat": time.Now().Unix()})
	c := h.dial("2.0.0")
	c.send(`["1","1","realtime:x","phx_join",{"config":{}}]`)
	c.expect(`"ok"`)
	// No database (Broadcast and Presence only): healthy, nothing connected.
	want := `{"data":{"healthy":true,"db_connected":false,"replication_connected":false,"connected_cluster":1,"region":"eu-west","node":"node-a"}}` + "\n"
	if code, body := apiGet(t, "GET", h.url+"/api/tenants/dev/health", good); code != 200 || body != want {
		t.Fatalf("health: %d %s", code, body)
	}
	// The self-hosted stack's healthcheck: curl --head -f.
	if code, _ := apiGet(t, "HEAD", h.url+"/api/tenants/dev/health", good); code != 200 {
		t.Fatalf("HEAD health: %d", code)
	}
}

// With a database: healthy and db_connected while it answers (replication_connected from the
// stream's state), unhealthy once it is gone.
func TestTenantHealthWithDatabase(t *testing.T) {
	h, pg := newPrivateHarness(t)
	h.srv.tenantAPI = newTenantAPI(&TenantAPIOptions{Secrets: [][]byte{[]byte(apiSecret)}, Node: "n", Region: "r"})
	h.deps.Replication = &fakeReplication{after: 0}
	good, _ := auth.SignHS256([]byte(apiSecret), map[string]any{"iat": time.Now().Unix()})
	want := `{"data":{"healthy":true,"db_connected":true,"replication_connected":true,"connected_cluster":0,"region":"r","node":"n"}}` + "\n"
	if code, body := apiGet(t, "GET", h.url+"/api/tenants/dev/health", good); code != 200 || body != want {
		t.Fatalf("health: %d %s", code, body)
	}
	pg.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := apiGet(t, "GET", h.url+"/api/tenants/dev/health", good)
		if strings.Contains(body, `"healthy":false,"db_connected":false,"replication_connected":false`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still healthy after the database died: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
