package changes

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

const (
	// ChangesPublication is the publication of tables whose changes Postgres Changes delivers.
	ChangesPublication = "supabase_realtime"
	// MessagesPublication holds realtime.messages for database broadcasts (docs/protocol.md#database-broadcast). It is streamed
	// on the same permanent slot as ChangesPublication (see stream.go for why).
	MessagesPublication = "supabase_realtime_messages_publication"
	readyPrefix         = "realtime_ready"
)

// ErrWalLevel means the tenant database cannot do logical replication.
var ErrWalLevel = errors.New("wal_level is not logical")

// replConfig builds the replication connection config for a tenant database. The session settings
// fix the text form of values (UTC timestamps, ISO dates, hex bytea) that textvalue.go expects.
func replConfig(d *tenant.Database) (*pgconn.Config, error) {
	cfg, err := pgconn.ParseConfig(tenantdb.ConnString(d, tenantdb.AppReplication))
	if err != nil {
		return nil, fmt.Errorf("replication config: %w", err)
	}
	for k, v := range map[string]string{
		"replication": "database", "TimeZone": "UTC", "DateStyle": "ISO, MDY",
		"IntervalStyle": "postgres", "bytea_output": "hex", "extra_float_digits": "1",
	} {
		cfg.RuntimeParams[k] = v
	}
	return cfg, nil
}

// checkWalLevel fails with ErrWalLevel (wrapped with the actual level) unless wal_level=logical.
func checkWalLevel(ctx context.Context, pool *pgxpool.Pool) error {
	var level string
	if err := pool.QueryRow(ctx, "show wal_level").Scan(&level); err != nil {
		return fmt.Errorf("read wal_level: %w", err)
	}
	if level != "logical" {
		return fmt.Errorf("%w: the database has wal_level=%s, Postgres Changes need wal_level=logical", ErrWalLevel, level)
	}
	return nil
}

// ensurePublications creates the two publications when missing and adds realtime.messages to the
// messages publication once that table exists. Safe to run concurrently from several nodes.
func ensurePublications(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    begin
      create publication supabase_realtime;
    exception when duplicate_object then null;
    end;
  end if;
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime_messages_publication') then
    begin
      create publication supabase_realtime_messages_publication with (publish_via_partition_root = true);
    exception when duplicate_object then null;
    end;
  end if;
  if to_regclass('realtime.messages') is not null and not exists (
      select 1 from pg_publication_rel r join pg_publication p on p.oid = r.prpubid
      where p.pubname = 'supabase_realtime_messages_publication' and r.prrelid = 'realtime.messages'::regclass) then
    begin
      alter publication supabase_realtime_messages_publication add table realtime.messages;
    exception when duplicate_object then null;
    end;
  end if;
end $$`)
	if err != nil {
		return fmt.Errorf("ensure publications: %w", err)
	}
	return nil
}

// ensureSlot creates the tenant's permanent pgoutput slot if it does not exist.
func ensureSlot(ctx context.Context, pool *pgxpool.Pool, conn *pgconn.PgConn, slot string) error {
	var exists bool
	if err := pool.QueryRow(ctx, "select exists(select 1 from pg_replication_slots where slot_name = $1)", slot).Scan(&exists); err != nil {
		return fmt.Errorf("look up slot %s: %w", slot, err)
	}
	if exists {
		return nil
	}
	_, err := pglogrepl.CreateReplicationSlot(ctx, conn, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42710" { // created concurrently
		return nil
	}
	if err != nil {
		return fmt.Errorf("create slot %s: %w", slot, err)
	}
	return nil
}

// terminateSlotHolder ends the backend streaming slot (a stale connection of an earlier owner).
func terminateSlotHolder(ctx context.Context, pool *pgxpool.Pool, slot string) error {
	_, err := pool.Exec(ctx, `select pg_terminate_backend(active_pid) from pg_replication_slots
		where slot_name = $1 and active_pid is not null`, slot)
	if err != nil {
		return fmt.Errorf("terminate holder of slot %s: %w", slot, err)
	}
	return nil
}

func isSlotInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}
