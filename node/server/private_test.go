package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/channeldb"
	"github.com/realtimeops/realtime/node/tenantdb"
)

const privateTenantYAML = `apiVersion: v1
kind: Secret
metadata: {name: jwt}
stringData: {secret: %s}
---
apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: dev}
spec:
  jwt: {secretRef: {name: jwt, key: secret}}
  database: {host: 127.0.0.1, port: %d, name: postgres, user: postgres, sslMode: disable, region: local}
`

// The room1 policies of docs/protocol.md#private-channels: authenticated users may read and write room1 only.
const roomPolicies = `
create policy "read room" on realtime.messages for select to authenticated
  using (realtime.topic() = 'room1' and realtime.messages.extension in ('broadcast','presence'));
create policy "write room" on realtime.messages for insert to authenticated
  with check (realtime.topic() = 'room1' and realtime.messages.extension in ('broadcast','presence'));`

func newPrivateHarness(t *testing.T) (*harness, *pgtest.Instance) {
	pg := pgtest.Start(t)
	pools := tenantdb.NewManager(slog.New(slog.NewTextHandler(io.Discard, nil)), tenantdb.Options{})
	t.Cleanup(pools.Close)
	access := &channeldb.Access{Pools: pools}
	h := newHarnessWith(t, fmt.Sprintf(privateTenantYAML, testSecret, pg.Port), func(d *channel.Deps) {
		d.Database, d.Authorizer, d.Replayer = access, access, access
	})
	// Connect once so the migrations have created realtime.messages, then add the policies.
	tn, _ := h.deps.Tenants.Get("dev")
	if err := access.Ready(context.Background(), tn); err != nil {
		t.Fatalf("tenant database: %v", err)
	}
	exec(t, pg, roomPolicies)
	return h, pg
}

func exec(t *testing.T, pg *pgtest.Instance, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("exec: %v", err)
	}
}

func (h *harness) userToken(role string) string {
	return h.token(map[string]any{"role": role, "sub": "11111111-1111-1111-1111-111111111111", "exp": time.Now().Add(time.Hour).Unix()})
}

func TestPrivateChannelsFollowRLS(t *testing.T) {
	h, _ := newPrivateHarness(t)
	user := h.userToken("authenticated")
	a, b := h.dial("2.0.0"), h.dial("2.0.0")
	join := func(c *client, topic, tok string) string {
		c.send(`["1","1","realtime:` + topic + `","phx_join",{"config":{"private":true,"broadcast":{"ack":true}},"access_token":"` + tok + `"}]`)
		return c.expect(`phx_reply`)
	}
	if f := join(a, "room1", user); !strings.Contains(f, `"ok"`) {
		t.Fatalf("allowed join refused: %s", f)
	}
	if f := join(b, "room2", user); !strings.Contains(f, `"Unauthorized: You do not have permissions to read from this Channel topic: room2"`) {
		t.Fatalf("denied join: %s", f)
	}
	anon := h.dial("2.0.0")
	if f := join(anon, "room1", h.userToken("anon")); !strings.Contains(f, `Unauthorized`) {
		t.Fatalf("anon join: %s", f)
	}
	if f := join(b, "room1", user); !strings.Contains(f, `"ok"`) {
		t.Fatalf("second member: %s", f)
	}
	a.send(`["1","2","realtime:room1","broadcast",{"type":"broadcast","event":"e","payload":{"n":1}}]`)
	a.expect(`"2"`, `"ok"`) // write permitted by the insert policy
	b.expect(`"event":"e"`, `"n":1`)
	// A public channel of the same name is a separate stream.
	pub := h.dial("2.0.0")
	pub.send(`["1","1","realtime:room1","phx_join",{"config":{}}]`)
	pub.expect(`phx_reply`, `"ok"`)
	a.send(`["1","3","realtime:room1","broadcast",{"type":"broadcast","event":"e","payload":{"n":2}}]`)
	b.expect(`"n":2`)
	pub.expectNone(`"n":2`, 300*time.Millisecond)
}

func TestPrivateRESTBroadcastNeedsWritePolicy(t *testing.T) {
	h, _ := newPrivateHarness(t)
	c := h.dial("2.0.0")
	c.send(`["1","1","realtime:room1","phx_join",{"config":{"private":true},"access_token":"` + h.userToken("authenticated") + `"}]`)
	c.expect(`phx_reply`, `"ok"`)
	post := func(topic, tok string) int {
		req, _ := http.NewRequest("POST", h.url+"/api/broadcast/"+topic+"/events/e?private=true", strings.NewReader(`{"v":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("room2", h.userToken("authenticated")); s != 403 {
		t.Fatalf("room2 status %d, want 403", s)
	}
	if s := post("room1", h.userToken("authenticated")); s != 202 {
		t.Fatalf("room1 status %d, want 202", s)
	}
	if f, bin := c.next(); !bin || !strings.Contains(f, `{"v":1}`) {
		t.Fatalf("delivery %q", f)
	}
}

func TestReplayOnJoin(t *testing.T) {
	h, pg := newPrivateHarness(t)
	exec(t, pg, `select realtime.send('{"x": 1}'::jsonb, 'old', 'room1', true)`)
	c := h.dial("2.0.0")
	since := time.Now().Add(-time.Hour).UnixMilli()
	c.send(`["1","1","realtime:room1","phx_join",{"config":{"private":true,"broadcast":{"replay":{"since":` + fmt.Sprint(since) + `,"limit":5}}},"access_token":"` + h.userToken("authenticated") + `"}]`)
	c.expect(`phx_reply`, `"ok"`)
	f := c.expect(`"old"`)
	if !strings.HasPrefix(f, `["1",null,"realtime:room1","broadcast",{"payload":{"x": 1, "id": "`) || !strings.Contains(f, `"meta":{"replayed":true,"id":"`) {
		t.Fatalf("replayed frame %s", f)
	}
	pub := h.dial("2.0.0")
	pub.send(`["1","1","realtime:room1","phx_join",{"config":{"broadcast":{"replay":{"since":1}}}}]`)
	pub.expect(`"UnableToReplayMessages: Replay is not allowed for public channels"`)
}

// A non-object replay value on a private channel is ignored, as upstream (maybe_replay_messages
// only replays a map): the join succeeds and nothing is replayed.
func TestPrivateNonObjectReplayIgnored(t *testing.T) {
	h, pg := newPrivateHarness(t)
	exec(t, pg, `select realtime.send('{"x": 1}'::jsonb, 'old', 'room1', true)`)
	c := h.dial("2.0.0")
	for i, v := range []string{`5`, `"since"`, `null`, `[1]`} {
		c.send(fmt.Sprintf(`["%d","%d","realtime:room1","phx_join",{"config":{"private":true,"broadcast":{"replay":%s}},"access_token":"%s"}]`, i, i, v, h.userToken("authenticated")))
		c.expect(fmt.Sprintf(`["%d","%d","realtime:room1","phx_reply",{"status":"ok"`, i, i))
	}
	c.expectNone(`"old"`, 300*time.Millisecond)
}

// RLS check and replay latencies are observed per tenant (upstream prom_ex/plugins/tenant.ex:
// realtime_tenants_read_authorization_check, _write_authorization_check, _replay).
func TestAuthorizationAndReplayLatencyMetrics(t *testing.T) {
	h, _ := newPrivateHarness(t)
	c := h.dial("2.0.0")
	tok := h.userToken("authenticated")
	c.send(`["1","1","realtime:room1","phx_join",{"config":{"private":true,"broadcast":{"ack":true,"replay":{"since":1}}},"access_token":"` + tok + `"}]`)
	c.expect(`phx_reply`, `"ok"`)
	c.send(`["1","2","realtime:room1","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)
	c.expect(`"2"`, `"ok"`)
	got := histogramCounts(h.metrics())
	for _, name := range []string{"realtime_tenants_read_authorization_check", "realtime_tenants_write_authorization_check", "realtime_tenants_replay"} {
		if got[name] < 1 {
			t.Fatalf("%s observed %d times (%v)", name, got[name], got)
		}
	}
}
