package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartLogicalAndRestart(t *testing.T) {
	inst := Start(t)
	ctx := context.Background()
	query := func(setting string) string {
		conn, err := pgx.Connect(ctx, inst.DSN("postgres"))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		var v string
		if err := conn.QueryRow(ctx, "select current_setting($1)", setting).Scan(&v); err != nil {
			t.Fatalf("show %s: %v", setting, err)
		}
		return v
	}
	if got := query("wal_level"); got != "logical" {
		t.Fatalf("wal_level = %q, want logical", got)
	}
	// Users' default: a streamed commit may reach the walsender before new snapshots see it.
	if got := query("synchronous_commit"); got != "on" {
		t.Fatalf("synchronous_commit = %q, want on (the default)", got)
	}
	inst.Kill()
	if err := inst.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := query("wal_level"); got != "logical" {
		t.Fatalf("after restart wal_level = %q", got)
	}
	db := inst.CreateDatabase(t, "tenant_a")
	conn, err := pgx.Connect(ctx, inst.DSN(db))
	if err != nil {
		t.Fatalf("connect %s: %v", db, err)
	}
	conn.Close(ctx)
}
