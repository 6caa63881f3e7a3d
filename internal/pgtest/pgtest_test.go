package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartLogicalAndRestart(t *testing.T) {
	inst := Start(t)
	ctx := context.Background()
	query := func() string {
		conn, err := pgx.Connect(ctx, inst.DSN("postgres"))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		var level string
		if err := conn.QueryRow(ctx, "show wal_level").Scan(&level); err != nil {
			t.Fatalf("show wal_level: %v", err)
		}
		return level
	}
	if got := query(); got != "logical" {
		t.Fatalf("wal_level = %q, want logical", got)
	}
	inst.Kill()
	if err := inst.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := query(); got != "logical" {
		t.Fatalf("after restart wal_level = %q", got)
	}
	db := inst.CreateDatabase(t, "tenant_a")
	conn, err := pgx.Connect(ctx, inst.DSN(db))
	if err != nil {
		t.Fatalf("connect %s: %v", db, err)
	}
	conn.Close(ctx)
}
