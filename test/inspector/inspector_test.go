// Package inspector tests the node's inspector page (GET /inspector, node/inspector) in a real
// headless Chromium driven by chromedp, against a real realtime-node process and a real Postgres:
// sign in, join a channel, and see a REST broadcast, a second client's presence and a database
// change arrive in the page's DOM; send from the page; the operator view; refusals.
package inspector

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/test/conformance"
)

const (
	tenantID   = "realtime-dev"
	jwtSecret  = "inspector-test-jwt-secret-with-32-characters"
	adminToken = "inspector-admin-token-0123456789"
	// otherID is a second tenant, chosen in the login form rather than by the Host.
	otherID     = "other-app"
	otherSecret = "inspector-test-other-tenant-secret-0123456789"
	// wait bounds every asynchronous assertion; on 2 busy cores a change takes well under 5 s.
	wait = 30 * time.Second
)

func TestMain(m *testing.M) {
	code := m.Run()
	conformance.CleanupBuild()
	os.Exit(code)
}

type env struct {
	node  *conformance.Node
	db    *pgtest.Instance
	token string
}

func start(t *testing.T) *env {
	t.Helper()
	db := pgtest.Start(t)
	tenants, err := conformance.WriteTenants(t.TempDir(), []conformance.Tenant{{
		ExternalID: tenantID, JWTSecret: jwtSecret, Database: conformance.PGDatabase(db, "postgres", true),
	}, {ExternalID: otherID, JWTSecret: otherSecret}})
	if err != nil {
		t.Fatal(err)
	}
	node := conformance.StartNode(t, conformance.NodeOptions{
		TenantsFile: tenants, DefaultTenant: tenantID,
		Args: []string{"--inspector", "--node-name", "inspector-node", "--region", "eu-west"},
		Env:  []string{"INSPECTOR_ADMIN_TOKEN=" + adminToken},
	})
	node.WaitStreaming(t, tenantID, wait)
	conformance.ExecSQL(t, db.DSN("postgres"), `
create table public.todos (id serial primary key, title text);
grant select on public.todos to anon, authenticated;
alter publication supabase_realtime add table public.todos;`)
	return &env{node: node, db: db, token: conformance.MustSign([]byte(jwtSecret), conformance.Claims(time.Hour))}
}

func TestInspectorInBrowser(t *testing.T) {
	ctx := browser(t) // first: a missing browser fails (or skips) before anything starts
	e := start(t)
	artifacts := artifactsDir(t)
	p := &page{t: t, ctx: ctx}

	// Without a session the page is the login form only.
	p.do("open /inspector", chromedp.Navigate(e.node.HTTPURL+"/inspector"), chromedp.WaitVisible(chromedp.ID("login-token")))
	p.waitFor("no app without a session", `document.getElementById('app') === null`, wait)
	p.do("wrong token", chromedp.SetValue(chromedp.ID("login-token"), "not-a-jwt"), chromedp.Click(chromedp.ID("login-submit")))
	p.waitFor("refusal shown", textOf("login-error", "token refused"), wait)

	// A tenant JWT opens the channel view.
	p.do("sign in", chromedp.SetValue(chromedp.ID("login-token"), e.token), chromedp.Click(chromedp.ID("login-submit")))
	p.waitFor("page ready", `document.body.dataset.ready === 'true'`, wait)
	p.waitFor("whoami", textOf("whoami", "tenant "+tenantID), wait)

	// Join room1 with presence and a filtered postgres_changes binding.
	p.do("fill the join form",
		chromedp.SetValue(chromedp.ID("topic"), "room1"),
		chromedp.SetValue(chromedp.ID("presence-key"), "inspector-tab"),
		chromedp.SetValue(chromedp.CSS("#bindings .b-table"), "todos"),
		chromedp.SetValue(chromedp.CSS("#bindings .b-filter"), "title=eq.from-insert"),
		chromedp.Click(chromedp.ID("join")))
	p.waitFor("joined", textOf("channel-state", "joined"), wait)
	p.waitFor("join reply with the binding id", logHas("reply", `"table": "todos"`), wait)
	p.waitFor("presence_state", logHas("presence", "state"), wait)
	p.waitFor("system message", logHas("system", "Subscribed to PostgreSQL"), wait)

	// A broadcast sent by REST reaches the page.
	restBroadcast(t, e, "room1", "from-rest", map[string]any{"text": "hello from REST"})
	p.waitFor("REST broadcast in the log", logHas("broadcast", "hello from REST"), wait)

	// A second client joins with presence: the page lists it.
	second := dialV1(t, e.node.WSURL("/socket"), e.token)
	second.join("room1", map[string]any{"config": map[string]any{
		"broadcast": map[string]any{"self": false}, "presence": map[string]any{"key": "second-client", "enabled": true}}})
	second.push("room1", "presence", map[string]any{"type": "presence", "event": "track", "payload": map[string]any{"user": "bob"}})
	p.waitFor("presence join in the log", logHas("presence", "join second-client"), wait)
	p.waitFor("presence list", `document.querySelector('#presence-list li[data-key="second-client"]')?.textContent.includes('bob') === true`, wait)

	// An insert shows up as a database change; a row the filter excludes does not.
	conformance.ExecSQL(t, e.db.DSN("postgres"), `insert into public.todos (title) values ('filtered-out');
insert into public.todos (title) values ('from-insert');`)
	p.waitFor("database change in the log", logHas("postgres_changes", `"title": "from-insert"`), wait)
	p.waitFor("the change is an INSERT", logHas("postgres_changes", "INSERT public.todos"), wait)
	if ok, err := p.eval(logHas("postgres_changes", "filtered-out")); err != nil || ok {
		t.Errorf("a row outside the filter reached the page (or eval failed: %v)", err)
	}

	// The page sends: over its WebSocket, then by REST; the second client receives both.
	p.do("send over the socket", chromedp.SetValue(chromedp.ID("send-event"), "from-page"),
		chromedp.SetValue(chromedp.ID("send-payload"), `{"via":"websocket"}`), chromedp.Click(chromedp.ID("send-ws")))
	second.expect(t, "broadcast", `"via":"websocket"`)
	p.do("send by REST", chromedp.SetValue(chromedp.ID("send-payload"), `{"via":"rest"}`), chromedp.Click(chromedp.ID("send-rest")))
	p.waitFor("REST accepted", textOf("send-result", "REST: 202"), wait)
	second.expect(t, "broadcast", `"via":"rest"`)

	// The snippet describes the same subscription for realtime-js.
	p.waitFor("snippet", textOf("snippet", `client.channel("room1"`)+" && "+textOf("snippet", `"filter":"title=eq.from-insert"`)+
		" && "+textOf("snippet", `"key":"inspector-tab"`), wait)
	p.screenshot(artifacts, "inspector-channel.png")

	// The second client leaves: the page logs the leave and drops it from the list.
	second.close()
	p.waitFor("presence leave", logHas("presence", "leave second-client"), wait)
	p.waitFor("list updated", `document.querySelector('#presence-list li[data-key="second-client"]') === null`, wait)

	// A tenant session has no node view; the admin token opens it.
	p.waitFor("node tab hidden for tenants", `document.getElementById('tab-node').hidden === true`, wait)
	p.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-token")))
	p.do("admin sign in", chromedp.SetValue(chromedp.ID("login-token"), adminToken), chromedp.Click(chromedp.ID("login-submit")))
	p.waitFor("page ready (admin)", `document.body.dataset.ready === 'true'`, wait)
	p.do("open the node view", chromedp.Click(chromedp.ID("tab-node")))
	p.waitFor("node summary", textOf("node-summary", "inspector-node")+" && "+textOf("node-summary", "eu-west"), wait)
	p.waitFor("replication row", `(document.querySelector('#node-replication tr[data-row="realtime-dev"] td[data-col="streaming"]')?.textContent) === 'true'`, wait)
	// A client connected elsewhere is counted in the tenant's row (sockets and channels).
	third := dialV1(t, e.node.WSURL("/socket"), e.token)
	third.join("room2", map[string]any{"config": map[string]any{}})
	p.waitFor("tenants row counts the client", `(document.querySelector('#node-tenants tr[data-row="realtime-dev"] td[data-col="sockets"]')?.textContent) === '1' && `+
		`(document.querySelector('#node-tenants tr[data-row="realtime-dev"] td[data-col="channels"]')?.textContent) === '1'`, wait)
	p.screenshot(artifacts, "inspector-node.png")

	// Another tenant, chosen by name in the form: the page reaches it through its own host name
	// (other-app.localhost, which Chromium resolves to loopback) and receives its broadcasts.
	otherToken := conformance.MustSign([]byte(otherSecret), conformance.Claims(time.Hour))
	p.do("log out (admin)", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-token")))
	p.do("sign in to another tenant", chromedp.SetValue(chromedp.ID("login-token"), otherToken),
		chromedp.SetValue(chromedp.ID("login-tenant"), otherID), chromedp.Click(chromedp.ID("login-submit")))
	p.waitFor("page ready (other tenant)", `document.body.dataset.ready === 'true'`, wait)
	p.waitFor("endpoint of the other tenant", `document.getElementById('endpoint').value.includes('//other-app.localhost:')`, wait)
	p.do("join on the other tenant", chromedp.SetValue(chromedp.ID("topic"), "lobby"), chromedp.Click(chromedp.ID("join")))
	p.waitFor("joined (other tenant)", textOf("channel-state", "joined"), wait)
	e.broadcastAs(t, otherID+".localhost", otherToken, "lobby", "hi", map[string]any{"text": "to the other tenant"})
	p.waitFor("the other tenant's broadcast", logHas("broadcast", "to the other tenant"), wait)
}

// TestInspectorRefusals checks the HTTP side of "never open": no session, tenant sessions on the
// node view, and a node started without --inspector.
func TestInspectorRefusals(t *testing.T) {
	e := start(t)
	for path, want := range map[string]int{"/inspector": 401, "/inspector/static/app.js": 401, "/inspector/api/status": 401} {
		if code, _ := httpGet(t, e.node.HTTPURL+path, nil); code != want {
			t.Errorf("GET %s without a token: %d, want %d", path, code, want)
		}
	}
	body, _ := json.Marshal(map[string]string{"token": e.token})
	resp, err := http.Post(e.node.HTTPURL+"/inspector/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) == 0 {
		t.Fatalf("tenant login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	if code, _ := httpGet(t, e.node.HTTPURL+"/inspector/api/status", resp.Cookies()[0]); code != http.StatusForbidden {
		t.Errorf("node view with a tenant session: %d, want 403", code)
	}
	if code, page := httpGet(t, e.node.HTTPURL+"/inspector", resp.Cookies()[0]); code != http.StatusOK || !strings.Contains(page, `id="app"`) {
		t.Errorf("page with a tenant session: %d", code)
	}

	// The admin token as a Bearer header reads the node view's data: /status plus the node's
	// recent WARN/ERROR records.
	req, err := http.NewRequest(http.MethodGet, e.node.HTTPURL+"/inspector/api/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	err = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("admin status: %d %v", res.StatusCode, err)
	}
	for _, k := range []string{"replication", "tenants", "users", "recentErrors", "node"} {
		if _, ok := st[k]; !ok {
			t.Errorf("admin status has no %q: %v", k, st)
		}
	}

	tenants, err := conformance.WriteTenants(t.TempDir(), []conformance.Tenant{{ExternalID: tenantID, JWTSecret: jwtSecret}})
	if err != nil {
		t.Fatal(err)
	}
	off := conformance.StartNode(t, conformance.NodeOptions{TenantsFile: tenants, DefaultTenant: tenantID})
	if code, _ := httpGet(t, off.HTTPURL+"/inspector", nil); code != http.StatusNotFound {
		t.Errorf("GET /inspector on a node without --inspector: %d, want 404", code)
	}
}

func httpGet(t *testing.T, url string, cookie *http.Cookie) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func restBroadcast(t *testing.T, e *env, topic, event string, payload map[string]any) {
	t.Helper()
	e.broadcastAs(t, "", e.token, topic, event, payload)
}

// broadcastAs posts a REST broadcast with the given Host ("" keeps the node's address) and token.
func (e *env) broadcastAs(t *testing.T, host, token, topic, event string, payload map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{"topic": topic, "event": event, "payload": payload}}})
	req, err := http.NewRequest(http.MethodPost, e.node.HTTPURL+"/api/broadcast", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("apikey", token)
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("REST broadcast: %d", resp.StatusCode)
	}
}
