package inspector

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const adminToken = "admin-token-for-tests-0123456789"

type fixture struct {
	srv   *httptest.Server
	clock time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: time.Unix(1_800_000_000, 0)}
	h, err := New(Options{
		AdminToken: adminToken,
		Node:       map[string]string{"name": "node-a", "region": "eu-west"},
		Now:        func() time.Time { return f.clock },
		Status:     func() map[string]any { return map[string]any{"sockets": 3} },
		VerifyTenant: func(_ *http.Request, tenant, token string) (string, time.Time, error) {
			if token != "good-jwt" {
				return "", time.Time{}, errors.New("bad signature")
			}
			if tenant == "" {
				tenant = "from-host"
			}
			return tenant, f.clock.Add(time.Hour), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func login(t *testing.T, c *http.Client, base, token, tenant string) (int, map[string]string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token": token, "tenant": tenant})
	resp, err := c.Post(base+"/inspector/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestRefusesWithoutSession(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	code, body := get(t, c, f.srv.URL+"/inspector")
	if code != http.StatusUnauthorized || !strings.Contains(body, `id="login-form"`) || strings.Contains(body, `id="app"`) {
		t.Fatalf("GET /inspector without a session: %d, want 401 with the login form only:\n%s", code, body)
	}
	for _, path := range []string{"/inspector/static/app.js", "/inspector/static/node.js", "/inspector/api/status", "/inspector/api/session"} {
		if code, _ := get(t, c, f.srv.URL+path); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, code)
		}
	}
	for _, path := range []string{"/inspector/static/login.js", "/inspector/static/style.css"} {
		if code, _ := get(t, c, f.srv.URL+path); code != http.StatusOK {
			t.Errorf("GET %s (login page asset): %d, want 200", path, code)
		}
	}
	if code, _ := login(t, c, f.srv.URL, "bad-jwt", ""); code != http.StatusUnauthorized {
		t.Errorf("login with a bad token: %d, want 401", code)
	}
	if code, _ := login(t, c, f.srv.URL, "", ""); code != http.StatusUnauthorized {
		t.Errorf("login without a token: %d, want 401", code)
	}
	resp, err := c.Post(f.srv.URL+"/inspector/login", "application/x-www-form-urlencoded", strings.NewReader("token=good-jwt"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form-encoded login (cross-site form): %d, want 415", resp.StatusCode)
	}
	if code, _ := get(t, c, f.srv.URL+"/inspector"); code != http.StatusUnauthorized {
		t.Errorf("refused logins opened a session: %d", code)
	}
}

func TestTenantSession(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	code, out := login(t, c, f.srv.URL, "good-jwt", "acme")
	if code != http.StatusOK || out["kind"] != "tenant" || out["tenant"] != "acme" {
		t.Fatalf("login: %d %v", code, out)
	}
	code, body := get(t, c, f.srv.URL+"/inspector")
	if code != http.StatusOK || !strings.Contains(body, `id="app"`) {
		t.Fatalf("GET /inspector with a tenant session: %d\n%s", code, body)
	}
	if code, body := get(t, c, f.srv.URL+"/inspector/api/session"); code != http.StatusOK || !strings.Contains(body, `"tenant":"acme"`) {
		t.Errorf("session: %d %s", code, body)
	}
	if code, _ := get(t, c, f.srv.URL+"/inspector/api/status"); code != http.StatusForbidden {
		t.Errorf("status with a tenant session: %d, want 403", code)
	}
	f.clock = f.clock.Add(2 * time.Hour) // past the JWT's exp
	if code, _ := get(t, c, f.srv.URL+"/inspector"); code != http.StatusUnauthorized {
		t.Errorf("session outlived its JWT: %d", code)
	}
}

func TestAdminSession(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	if code, out := login(t, c, f.srv.URL, adminToken, ""); code != http.StatusOK || out["kind"] != "admin" {
		t.Fatalf("admin login: %d %v", code, out)
	}
	code, body := get(t, c, f.srv.URL+"/inspector/api/status")
	if code != http.StatusOK || !strings.Contains(body, `"sockets":3`) || !strings.Contains(body, `"node-a"`) {
		t.Fatalf("status with an admin session: %d %s", code, body)
	}
	// The admin token also works as a Bearer header (curl), without a session.
	if code, _ := get(t, client(t), f.srv.URL+"/inspector/api/status", "Authorization", "Bearer "+adminToken); code != http.StatusOK {
		t.Errorf("status with the admin Bearer: %d", code)
	}
	if code, _ := get(t, client(t), f.srv.URL+"/inspector/api/status", "Authorization", "Bearer "+adminToken+"x"); code != http.StatusUnauthorized {
		t.Errorf("status with a wrong Bearer: %d", code)
	}
}

func TestTamperedCookie(t *testing.T) {
	f := newFixture(t)
	s, err := newSessions(func() time.Time { return f.clock })
	if err != nil {
		t.Fatal(err)
	}
	forged := s.encode(session{Kind: kindAdmin, Exp: f.clock.Add(time.Hour).Unix()}) // another key
	code, _ := get(t, client(t), f.srv.URL+"/inspector/api/status", "Cookie", cookieName+"="+forged)
	if code != http.StatusUnauthorized {
		t.Errorf("cookie signed with another key: %d, want 401", code)
	}
	payload, _, _ := strings.Cut(forged, ".")
	if _, ok := s.decode(payload + ".AAAA"); ok {
		t.Error("decode accepted a bad signature")
	}
	if _, ok := s.decode(s.encode(session{Kind: "root", Exp: f.clock.Add(time.Hour).Unix()})); ok {
		t.Error("decode accepted an unknown session kind")
	}
}

func TestHeadersAndOptions(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/inspector")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if _, err := New(Options{AdminToken: "short", VerifyTenant: func(*http.Request, string, string) (string, time.Time, error) {
		return "", time.Time{}, nil
	}, Status: func() map[string]any { return nil }}); err == nil {
		t.Error("a short admin token was accepted")
	}
}

// TestAssetsUseTextContent guards the rule that network strings never become HTML.
func TestAssetsUseTextContent(t *testing.T) {
	entries, err := assets.ReadDir("assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".js") {
			continue
		}
		body, err := assets.ReadFile("assets/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(string(body), bad) {
				t.Errorf("%s uses %s", e.Name(), bad)
			}
		}
	}
}
