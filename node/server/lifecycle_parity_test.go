package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
)

// waitLog polls the log until it contains every substring on one line.
func waitLog(t *testing.T, logs *testutil.LockedBuffer, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if containsAll(line, subs) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line with %q in:\n%s", subs, logs.String())
}

// Upstream: user_socket.ex log_level/1 and Logger.put_process_level in connect/3 and join/3.
func TestLogLevelConnectParam(t *testing.T) {
	logs := &testutil.LockedBuffer{}
	h := newHarnessOpts(t, harnessOpts{yaml: fmt.Sprintf(tenantsYAML, testSecret),
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	// An invalid join payload is logged at info (InvalidJoinPayload), a refused join at error.
	join := func(c *client, topic string) {
		c.send(`["1","1","realtime:` + topic + `","phx_join",{"config":{"private":5}}]`)
		c.expect(`phx_reply`)
		c.send(`["2","2","realtime:` + topic + `-x","phx_join",{"config":{},"access_token":"bad"}]`)
		c.expect(`MalformedJWT`)
	}
	join(h.dialQuery("2.0.0", "&log_level=info"), "info-level")
	join(h.dialQuery("2.0.0", "&log_level=warn"), "warn-means-error") // not an accepted value: error
	join(h.dialQuery("2.0.0", ""), "node-level")
	waitLog(t, logs, "level=ERROR", "MalformedJWT", "warn-means-error-x")
	waitLog(t, logs, "level=INFO", "InvalidJoinPayload", "info-level")
	waitLog(t, logs, "level=INFO", "InvalidJoinPayload", "node-level")
	for _, line := range strings.Split(logs.String(), "\n") {
		if containsAll(line, []string{"InvalidJoinPayload", "warn-means-error"}) {
			t.Fatalf("info log on a log_level=error connection: %s", line)
		}
	}
}

// panicky admits private joins and panics when a write is authorized.
type panicky struct{}

func (panicky) Read(context.Context, *tenant.Tenant, channel.AuthzRequest, bool) (bool, bool, error) {
	return true, true, nil
}

func (panicky) Write(context.Context, *tenant.Tenant, channel.AuthzRequest) (bool, bool, error) {
	panic("authorizer exploded")
}

const tenantWithDatabaseYAML = tenantsYAML + `  database: {host: 127.0.0.1, port: 1, name: postgres, user: postgres, sslMode: disable}
`

// A panic in a channel's handling ends that channel with phx_error (docs/protocol.md#control-events) and counts
// realtime_channel_error{code="UnknownErrorOnChannel"}; the socket and its other channels go on.
func TestChannelCrashSendsPhxError(t *testing.T) {
	h := newHarnessWith(t, fmt.Sprintf(tenantWithDatabaseYAML, testSecret), func(d *channel.Deps) { d.Authorizer = panicky{} })
	c := h.dial("2.0.0")
	c.send(`["1","1","realtime:other","phx_join",{"config":{}}]`)
	c.expect(`"1"`, `"ok"`)
	c.send(`["2","2","realtime:boom","phx_join",{"config":{"private":true}}]`)
	c.expect(`"2"`, `"ok"`)
	c.send(`["2","3","realtime:boom","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)
	c.expect(`["2","2","realtime:boom","phx_error",{}]`)
	c.send(`["2","4","realtime:boom","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)
	c.expect(`[null,"4","realtime:boom","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
	c.send(`["1","5","realtime:other","presence",{"type":"presence","event":"track","payload":{}}]`)
	c.expect(`"5"`, `"ok"`)
	metric := `realtime_channel_error{code="UnknownErrorOnChannel",tenant="dev"} 1`
	if body := h.metrics(); !strings.Contains(body, metric) {
		t.Fatalf("no %s in /metrics:\n%s", metric, body)
	}
}

// metrics renders the node's registry in the Prometheus text format.
func (h *harness) metrics() string {
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// Refused joins count in realtime_channel_error by code, as upstream's log_error does.
func TestRefusedJoinsCountAsChannelErrors(t *testing.T) {
	h := newHarness(t)
	c := h.dial("2.0.0")
	c.send(`["1","1","realtime:","phx_join",{"config":{}}]`)
	c.expect(`TopicNameRequired`)
	c.send(`["2","2","realtime:x","phx_join",{"config":{},"access_token":"bad"}]`)
	c.expect(`MalformedJWT`)
	body := h.metrics()
	for _, want := range []string{`realtime_channel_error{code="TopicNameRequired",tenant="dev"} 1`, `realtime_channel_error{code="MalformedJWT",tenant="dev"} 1`} {
		if !strings.Contains(body, want) {
			t.Fatalf("no %s in /metrics:\n%s", want, body)
		}
	}
}

// Upstream: lib/realtime_web/channels/realtime_channel/tracker.ex (NO_CHANNEL_TIMEOUT_IN_MS).
func TestSocketWithoutChannelsIsClosed(t *testing.T) {
	h := newHarnessOpts(t, harnessOpts{yaml: fmt.Sprintf(tenantsYAML, testSecret),
		sock: func(o *socket.Options) { o.NoChannelTimeout = 300 * time.Millisecond }})
	never := h.dial("2.0.0") // never joined: not reaped (docs/protocol.md#socket-lifecycle)
	c := h.dial("2.0.0")
	c.send(`["1","1","realtime:a","phx_join",{"config":{}}]`)
	c.expect(`"ok"`)
	c.send(`["1","2","realtime:a","phx_leave",{}]`)
	c.expect(`phx_close`)
	c.send(`["3","3","realtime:b","phx_join",{"config":{}}]`) // a join stops the timer...
	c.expect(`"3"`, `"ok"`)
	c.expectNone(`"never"`, 500*time.Millisecond)
	c.send(`["3","4","realtime:b","phx_leave",{}]`) // ...and the last leave starts it again
	if err := c.waitClosed(5 * time.Second); !strings.Contains(err.Error(), "no channels") {
		t.Fatalf("close: %v", err)
	}
	never.send(`[null,"9","phoenix","heartbeat",{}]`)
	never.expect(`"9"`, `"ok"`)
}
