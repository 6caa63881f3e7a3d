package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/pgtest"
)

// TestSocketLifecycleJS runs js/join_backoff.test.mjs against a node whose channel error backoff
// is long (1.5 s): refusals must be answered in parallel, not one after another; and
// js/socket_lifecycle.test.mjs with a short NO_CHANNEL_TIMEOUT_IN_MS.
func TestSocketLifecycleJS(t *testing.T) {
	tenants, err := WriteTenants(t.TempDir(), suiteTenants())
	if err != nil {
		t.Fatal(err)
	}
	const backoff = 1500
	node := StartNode(t, NodeOptions{TenantsFile: tenants, DefaultTenant: "realtime-dev",
		Env: []string{"CHANNEL_ERROR_BACKOFF_MS=" + strconv.Itoa(backoff), "NO_CHANNEL_TIMEOUT_IN_MS=500"}})
	env := append(suiteEnv(node, tenants), "RT_CHANNEL_ERROR_BACKOFF_MS="+strconv.Itoa(backoff))
	for _, file := range []string{"join_backoff.test.mjs", "socket_lifecycle.test.mjs"} {
		t.Run(file, func(t *testing.T) { RunJS(t, file, env, 2*time.Minute) })
	}
}

// parityFixtures: authenticated may read and write `pres-*` topics (broadcast and presence).
const parityFixtures = `
create policy parity_read on realtime.messages for select to authenticated using (realtime.topic() like 'pres-%');
create policy parity_write on realtime.messages for insert to authenticated with check (realtime.topic() like 'pres-%');
create table public.parity_legacy (id serial primary key, title text);
grant select on public.parity_legacy to anon, authenticated;
alter publication supabase_realtime add table public.parity_legacy;
`

// TestParityDatabaseJS runs js/parity_db.test.mjs: replication_ready and presence enabled by a
// track, against a real Postgres; tenant no-db has no database.
func TestParityDatabaseJS(t *testing.T) {
	db := pgtest.Start(t)
	tenants, err := WriteTenants(t.TempDir(), []Tenant{
		{ExternalID: "realtime-dev", JWTSecret: defaultSecret, Limits: generous, Database: PGDatabase(db, "postgres", true)},
		{ExternalID: "no-db", JWTSecret: otherSecret, Limits: generous},
	})
	if err != nil {
		t.Fatal(err)
	}
	// API_JWT_SECRET = the tenant's secret, as in the self-hosted Supabase stack, whose healthcheck
	// calls the tenant health endpoint with the anon key.
	node := StartNode(t, NodeOptions{TenantsFile: tenants, DefaultTenant: "realtime-dev", LogLevel: os.Getenv("RT_NODE_LOG_LEVEL"),
		Env: []string{"API_JWT_SECRET=" + defaultSecret}})
	node.WaitStreaming(t, "realtime-dev", 30*time.Second)
	ExecSQL(t, db.DSN("postgres"), parityFixtures)
	t.Run("tenant health", func(t *testing.T) { checkTenantHealth(t, node) })
	env := append(suiteEnv(node, tenants), "RT_DB_URL="+db.DSN("postgres"), "RT_HOST_NODB=no-db.localhost:"+node.Addr[len("127.0.0.1:"):])
	for _, file := range []string{"parity_db.test.mjs", "legacy.test.mjs"} {
		t.Run(file, func(t *testing.T) { RunJS(t, file, env, 3*time.Minute) })
	}
	t.Run("metrics", func(t *testing.T) {
		ExecSQL(t, db.DSN("postgres"), `select realtime.send('{"x": 1}'::jsonb, 'ev', 'metrics-room', false)`)
		waitMetrics(t, node, []string{
			`realtime_tenants_broadcast_from_database_latency_inserted_at_count{tenant="realtime-dev"}`,
			`realtime_tenants_broadcast_from_database_latency_committed_at_count{tenant="realtime-dev"}`,
			`realtime_tenants_read_authorization_check_count{tenant="realtime-dev"}`,
			`realtime_tenants_write_authorization_check_count{tenant="realtime-dev"}`,
			`realtime_channel_input_bytes{tenant="realtime-dev"}`,
			`realtime_channel_output_bytes{tenant="realtime-dev"}`,
		})
	})
}

// TestLongPollJS runs js/longpoll.test.mjs: the Phoenix LongPoll transport with real
// Phoenix-protocol clients (@supabase/phoenix's LongPoll, plain and under realtime-js).
func TestLongPollJS(t *testing.T) {
	tenants, err := WriteTenants(t.TempDir(), suiteTenants())
	if err != nil {
		t.Fatal(err)
	}
	node := StartNode(t, NodeOptions{TenantsFile: tenants, DefaultTenant: "realtime-dev", LogLevel: os.Getenv("RT_NODE_LOG_LEVEL")})
	RunJS(t, "longpoll.test.mjs", suiteEnv(node, tenants), 3*time.Minute)
}

// checkTenantHealth calls GET /api/tenants/realtime-dev/health as the self-hosted stack's
// healthcheck does (HEAD, then GET for the body): upstream's TenantController.health/2 shape.
func checkTenantHealth(t *testing.T, node *Node) {
	anon := MustSign([]byte(defaultSecret), Claims(time.Hour))
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, _ := http.NewRequest(method, node.HTTPURL+"/api/tenants/realtime-dev/health", nil)
		req.Header.Set("Authorization", "Bearer "+anon)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s health: %d %s", method, resp.StatusCode, body)
		}
		if method == http.MethodHead {
			continue
		}
		var got struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("health body %s: %v", body, err)
		}
		for k, want := range map[string]any{"healthy": true, "db_connected": true, "replication_connected": true} {
			if got.Data[k] != want {
				t.Fatalf("health %s = %v, want %v (%s)", k, got.Data[k], want, body)
			}
		}
		if _, ok := got.Data["connected_cluster"].(float64); !ok {
			t.Fatalf("health without connected_cluster: %s", body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, node.HTTPURL+"/api/tenants/realtime-dev", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("tenant without a token: %d", resp.StatusCode)
	}
}

// waitMetrics polls the node's /metrics (admin listener) until every series has a value > 0.
func waitMetrics(t *testing.T, node *Node, series []string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	missing := series
	for time.Now().Before(deadline) {
		resp, err := http.Get(node.AdminURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		missing = missing[:0:0]
		for _, s := range series {
			if !positive(string(body), s) {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("metrics without a positive value: %v", missing)
}

func positive(body, series string) bool {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return err == nil && v > 0
		}
	}
	return false
}
