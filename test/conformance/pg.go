package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/realtimeops/realtime/internal/pgtest"
)

// PGDatabase is the tenant Database block for database name on a pgtest server. pgtest uses
// trust authentication, so the password is a placeholder the server never asks for.
func PGDatabase(inst *pgtest.Instance, name string, postgresChanges bool) *Database {
	return &Database{Host: inst.Host, Port: inst.Port, Name: name, User: "postgres",
		Password: "unused-trust-auth", PostgresChanges: postgresChanges}
}

// ExecSQL runs a script of statements (simple protocol, so several statements and dollar-quoted
// bodies are fine) against dsn, failing the test with the script on error.
func ExecSQL(t testing.TB, dsn, script string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, script, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("exec SQL: %v\n%s", err, script)
	}
}

// ReplicationStatus is the part of one tenant's entry in the node's /status "replication" list
// that tests wait on.
type ReplicationStatus struct {
	Tenant    string `json:"tenant"`
	Streaming bool   `json:"streaming"`
	LastError string `json:"lastError"`
}

// WaitStreaming polls the node's /status until the tenant's replication stream is up. The node
// connects to every tenant database at start (to stream database broadcasts), so once it streams
// its migrations have run: schema realtime, realtime.messages and publication supabase_realtime
// exist and user fixtures (tables, policies on realtime.messages) can be created.
func (n *Node) WaitStreaming(t testing.TB, tenant string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	last := "no status yet"
	for time.Now().Before(deadline) {
		st, err := n.replication(client)
		if err != nil {
			last = err.Error()
		}
		for _, r := range st {
			if r.Tenant != tenant {
				continue
			}
			if r.Streaming {
				return
			}
			last = fmt.Sprintf("streaming=false lastError=%q", r.LastError)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("tenant %s: replication not streaming after %s (%s)\nnode log:\n%s", tenant, timeout, last, n.Logs())
}

func (n *Node) replication(client *http.Client) ([]ReplicationStatus, error) {
	resp, err := client.Get(n.AdminURL + "/status")
	if err != nil {
		return nil, fmt.Errorf("GET /status: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Replication []ReplicationStatus `json:"replication"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode /status: %w", err)
	}
	return body.Replication, nil
}
