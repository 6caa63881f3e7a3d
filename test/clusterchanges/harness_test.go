package clusterchanges

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/internal/changesws"
	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/internal/rowlog"
	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/test/conformance"
)

const (
	jwtSecret = "clusterchanges-test-jwt-secret-0123456789abcdef"
	tenantID  = "realtime-dev"
)

func tenantsFile(t *testing.T, host string, port int, db string) string {
	doc := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: jwt, namespace: default}
stringData: {secret: %s}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: default}
stringData: {password: postgres}
---
apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: realtime-dev, namespace: default}
spec:
  clusterRef: {name: realtime}
  externalId: %s
  jwt: {secretRef: {name: jwt, key: secret}}
  database:
    host: %s
    port: %d
    name: %s
    user: postgres
    passwordSecretRef: {name: db, key: password}
    sslMode: disable
    region: local
  postgresChanges: {enabled: true}
`, jwtSecret, tenantID, host, port, db)
	p := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// node is one realtime-node process.
type node struct {
	name, http, admin string
	proc              *testutil.Proc
	logs              *testutil.LockedBuffer
}

// seqSQL is the table every test commits rows into, published for Postgres Changes.
const seqSQL = `create table public.seq (id int8 primary key);
grant select on public.seq to public;
do $$ begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end $$;
alter publication supabase_realtime add table public.seq;`

// fixture is what every test here starts from: the node binary, a Postgres whose tenant
// database has public.seq published, the tenants file naming it, and a cluster of its own.
type fixture struct {
	bin, tenants, discoveryDSN, cluster string
	pool                                *pgxpool.Pool // the tenant database, for the test's writes
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	bin := conformance.BuildNode(t)
	inst := pgtest.Start(t)
	db := inst.CreateDatabase(t, "tenant")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, inst.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, seqSQL); err != nil {
		t.Fatalf("setup: %v", err)
	}
	return &fixture{bin: bin, tenants: tenantsFile(t, inst.Host, inst.Port, db), discoveryDSN: inst.DSN("postgres"),
		cluster: fmt.Sprintf("cc%d", time.Now().UnixNano()%1e9), pool: pool}
}

// node starts a node of the fixture's cluster.
func (f *fixture) node(t *testing.T, name, ip string, extra ...string) *node {
	t.Helper()
	return startNode(t, f.bin, name, ip, f.discoveryDSN, f.cluster, f.tenants, extra...)
}

// startNode starts a clustered node; extra flags come last and override the defaults (the flag
// package keeps the last value).
func startNode(t *testing.T, bin, name, ip, dsn, cluster, tenants string, extra ...string) *node {
	ports := testutil.MustFreePorts(t, ip, 3)
	httpAddr := net.JoinHostPort(ip, strconv.Itoa(ports[0]))
	clusterAddr := net.JoinHostPort(ip, strconv.Itoa(ports[1]))
	adminAddr := net.JoinHostPort(ip, strconv.Itoa(ports[2]))
	cmd := exec.Command(bin, "--cluster", "postgres", "--cluster-db", dsn, "--cluster-name", cluster,
		"--cluster-addr", clusterAddr, "--node-name", name, "--region", "local", "--addr", httpAddr, "--admin-addr", adminAddr,
		"--tenants", tenants, "--default-tenant", tenantID, "--log-level", "info", "--drain-window", "0s")
	cmd.Args = append(cmd.Args, extra...)
	cmd.Env = append(os.Environ(), "CLUSTER_SECRET=clusterchanges-test-secret-0123456789")
	n := &node{name: name, http: httpAddr, admin: adminAddr}
	n.proc, n.logs = testutil.StartLogged(t, name, cmd, 15*time.Second)
	testutil.Eventually(t, 20*time.Second, name+" ready", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return n
}

// kill signals the process itself (by its pid).
func (n *node) kill(sig syscall.Signal) { n.proc.Signal(sig) }

// status reads /status: peers and whether this node streams the tenant.
func (n *node) status() (peers int, streaming bool) {
	resp, err := http.Get("http://" + n.admin + "/status")
	if err != nil {
		return -1, false
	}
	defer resp.Body.Close()
	var st struct {
		Peers       []json.RawMessage `json:"peers"`
		Replication []struct {
			Tenant    string `json:"tenant"`
			Owned     bool   `json:"owned"`
			Streaming bool   `json:"streaming"`
		} `json:"replication"`
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return -1, false
	}
	for _, r := range st.Replication {
		if r.Tenant == tenantID && r.Owned && r.Streaming {
			streaming = true
		}
	}
	return len(st.Peers), streaming
}

// client records when each row id of public.seq first arrived through its node and the
// postgres_changes system messages (internal/changesws).
type client struct{ *rowlog.Log }

func subscribe(ctx context.Context, t *testing.T, n *node) *client {
	tok := changesws.AnonJWT(jwtSecret)
	conn, _, err := websocket.Dial(ctx, "ws://"+n.http+"/socket/websocket?vsn=2.0.0&apikey="+tok, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", n.name, err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	log, err := changesws.Subscribe(ctx, conn, tok, "seq")
	if err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	return &client{log}
}

// TestMain removes the node binary conformance.BuildNode may have built for this run.
func TestMain(m *testing.M) {
	code := m.Run()
	conformance.CleanupBuild()
	os.Exit(code)
}
