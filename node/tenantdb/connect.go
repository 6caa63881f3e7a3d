package tenantdb

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/node/tenant"
)

// connect runs the steps of docs/protocol.md#tenant-database that need the database: probe, pool, migrations, partitions.
func (m *Manager) connect(ctx context.Context, id string, db *tenant.Database) (*pgxpool.Pool, *Error) {
	if err := m.probe(ctx, id, db); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(ConnString(db, AppConnect))
	if err != nil {
		return nil, newError(CodeUnableToConnect, msgUnableToConnect, fmt.Errorf("parse config: %w", err))
	}
	cfg.MaxConns = m.opts.MaxConns
	cfg.ConnConfig.ConnectTimeout = m.opts.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, classifyConnect(err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, classifyConnect(err)
	}
	if err := migrateIfPending(ctx, pool); err != nil {
		pool.Close()
		if IsConnectionError(err) {
			return nil, classifyConnect(err)
		}
		return nil, newError(CodeMigrationsFailed, msgMigrationsFailed, err)
	}
	// A missing partition only breaks private channels (MissingPartition); keep the pool and let
	// the janitor retry, as Supabase does.
	if err := EnsurePartitions(ctx, pool); err != nil {
		m.log.Error("creating messages partitions failed", "tenant", id, "code", CodePartitionCreation, "error", err)
	}
	return pool, nil
}

func migrateIfPending(ctx context.Context, pool *pgxpool.Pool) error {
	pending, err := Pending(ctx, pool)
	if err != nil || !pending {
		return err
	}
	_, err = Migrate(ctx, pool)
	return err
}

// probe opens one throw-away connection, refuses when the database lacks free connections for the
// node, and warns when wal_level is not logical.
func (m *Manager) probe(ctx context.Context, id string, db *tenant.Database) *Error {
	cfg, err := pgx.ParseConfig(ConnString(db, AppConnectProbe))
	if err != nil {
		return newError(CodeUnableToConnect, msgUnableToConnect, fmt.Errorf("parse config: %w", err))
	}
	cfg.ConnectTimeout = m.opts.ConnectTimeout
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return classifyConnect(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	var free int
	err = conn.QueryRow(ctx, `select current_setting('max_connections')::int - count(*)::int
		from pg_catalog.pg_stat_activity
		where application_name is distinct from $1 and application_name is distinct from $2`,
		AppConnect, AppConnectProbe).Scan(&free)
	if err != nil {
		return classifyConnect(fmt.Errorf("probe free connections: %w", err))
	}
	required := int(m.opts.MaxConns) + m.opts.ReservedConns
	if need := int(math.Ceil(0.95 * float64(required))); need >= free {
		return newError(CodeLackOfConnections, msgLackOfConnections,
			fmt.Errorf("%d free connections, need more than %d", free, need))
	}
	if err := CheckLogical(ctx, conn); err != nil {
		m.log.Warn("Postgres Changes and database broadcasts will not work", "tenant", id, "error", err)
	}
	return nil
}
