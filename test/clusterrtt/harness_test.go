//go:build linux

package clusterrtt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/internal/changesws"
	"github.com/realtimeops/realtime/internal/rowlog"
	"github.com/realtimeops/realtime/internal/testutil"
)

const jwtSecret = "clusterrtt-test-jwt-secret-0123456789abcdef"

// Ports every node uses on its own address (each node has its own namespace).
const (
	httpPort    = 4000
	clusterPort = 4001
	adminPort   = 4002
)

// tenantDB is one tenant whose database is served (through a proxy in dbLeaf's namespace)
// by the test's Postgres.
type tenantDB struct {
	id, region, db string
	host           string // the proxy address in the database's region
}

func tenantsFile(t testing.TB, tenants []tenantDB) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata: {name: jwt, namespace: default}\nstringData: {secret: %s}\n", jwtSecret)
	b.WriteString("---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: default}\nstringData: {password: postgres}\n")
	for _, td := range tenants {
		region := ""
		if td.region != "" {
			region = "\n    region: " + td.region
		}
		fmt.Fprintf(&b, `---
apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: %s, namespace: default}
spec:
  clusterRef: {name: realtime}
  externalId: %s
  jwt: {secretRef: {name: jwt, key: secret}}
  database:
    host: %s
    port: 5432
    name: %s
    user: postgres
    passwordSecretRef: {name: db, key: password}
    sslMode: disable%s
  postgresChanges: {enabled: true}
`, td.id, td.id, td.host, td.db, region)
	}
	p := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// forward accepts on ln (a listener in a database's namespace) and pipes every connection to
// target (the test's Postgres on loopback) until ln closes.
func forward(t testing.TB, ln net.Listener, target string) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(up, c); _ = up.(*net.TCPConn).CloseWrite() }()
			go func() { defer wg.Done(); _, _ = io.Copy(c, up); _ = c.(*net.TCPConn).CloseWrite() }()
		}
	}()
}

// node is one realtime-node process in its own namespace.
type node struct {
	name, region, ip string
	logs             *testutil.LockedBuffer
	proc             *testutil.Proc
}

func startNode(t testing.TB, lab *Lab, bin, leaf, peers, tenants string, extra ...string) *node {
	lf := lab.leaf(leaf)
	args := []string{"--cluster", "static", "--cluster-peers", peers, "--cluster-addr", fmt.Sprintf("%s:%d", lf.IP, clusterPort),
		"--node-name", leaf, "--region", lf.Region, "--addr", fmt.Sprintf("%s:%d", lf.IP, httpPort),
		"--admin-addr", fmt.Sprintf("%s:%d", lf.IP, adminPort), "--tenants", tenants, "--log-level", "info", "--drain-window", "0s"}
	cmd := lab.Command(leaf, bin, append(args, extra...)...)
	cmd.Env = append(os.Environ(), "CLUSTER_SECRET=clusterrtt-test-secret-0123456789")
	n := &node{name: leaf, region: lf.Region, ip: lf.IP}
	n.proc, n.logs = testutil.StartLogged(t, leaf, cmd, 10*time.Second)
	return n
}

type status struct {
	Peers       []json.RawMessage `json:"peers"`
	Replication []struct {
		Tenant    string `json:"tenant"`
		Owned     bool   `json:"owned"`
		Streaming bool   `json:"streaming"`
	} `json:"replication"`
	DatabaseRTT map[string]struct {
		Ms      float64 `json:"ms"`
		Settled float64 `json:"settled"`
	} `json:"databaseRTT"`
}

func (n *node) status() (status, bool) {
	var st status
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/status", n.ip, adminPort))
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st) == nil
}

func (st status) streams(tenant string) bool {
	for _, r := range st.Replication {
		if r.Tenant == tenant && r.Owned && r.Streaming {
			return true
		}
	}
	return false
}

// ownerOf is the one node streaming tenant; "" when none or more than one does, or a node did not
// answer.
func ownerOf(nodes []*node, tenant string) string {
	found := ""
	for _, n := range nodes {
		st, ok := n.status()
		if !ok {
			return ""
		}
		if st.streams(tenant) {
			if found != "" {
				return ""
			}
			found = n.name
		}
	}
	return found
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func anonJWT() string { return changesws.AnonJWT(jwtSecret) }

// subscribe joins realtime:seq for INSERTs on public.seq of tenant through node n; the tenant is
// named by the Host (tenant.rtt.test), the connection goes to n's address.
func subscribe(ctx context.Context, t testing.TB, n *node, tenant string) *rowlog.Log {
	conn, tok := dialNode(ctx, t, n, tenant)
	log, err := changesws.Subscribe(ctx, conn, tok, "seq")
	if err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	return log
}

// dialNode opens a V2 WebSocket to node n for tenant (named by the Host, tenant.rtt.test; the
// connection goes to n's address), closed at the test's cleanup, and returns it with its token.
func dialNode(ctx context.Context, t testing.TB, n *node, tenant string) (*websocket.Conn, string) {
	tok := anonJWT()
	addr := fmt.Sprintf("%s:%d", n.ip, httpPort)
	var d net.Dialer
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}}}
	conn, _, err := websocket.Dial(ctx, "ws://"+tenant+".rtt.test:4000/socket/websocket?vsn=2.0.0&apikey="+tok,
		&websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatalf("dial %s: %v", n.name, err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn, tok
}
