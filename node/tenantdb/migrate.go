package tenantdb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey is the advisory-lock key every node takes before touching the realtime schema.
// Advisory locks are scoped to one database, so tenants sharing a cluster do not serialise.
const migrationLockKey int64 = 0x7265616c74696d65 // "realtime"

// Migration is one versioned SQL file of migrations/.
type Migration struct {
	Version int64
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order.
func Migrations() []Migration { return slices.Clone(embedded()) }

// embedded reads and parses the migration files once; Pending runs on every pool start.
var embedded = sync.OnceValue(func() []Migration {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		panic(fmt.Sprintf("tenantdb: embedded migrations: %v", err)) // build-time invariant
	}
	out := make([]Migration, 0, len(entries))
	for _, e := range entries {
		m, err := parseMigration(e.Name())
		if err != nil {
			panic(fmt.Sprintf("tenantdb: %v", err))
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(fmt.Sprintf("tenantdb: read %s: %v", e.Name(), err))
		}
		m.SQL = string(b)
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
})

// parseMigration splits "<version>_<name>.sql".
func parseMigration(file string) (Migration, error) {
	base, ok := strings.CutSuffix(file, ".sql")
	if !ok {
		return Migration{}, fmt.Errorf("migration %q: not a .sql file", file)
	}
	v, name, ok := strings.Cut(base, "_")
	if !ok {
		return Migration{}, fmt.Errorf("migration %q: want <version>_<name>.sql", file)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return Migration{}, fmt.Errorf("migration %q: version: %w", file, err)
	}
	return Migration{Version: n, Name: name}, nil
}

const bootstrapSQL = `
create schema if not exists realtime;
create table if not exists realtime.schema_migrations (
  version     bigint primary key,
  inserted_at timestamp(0)
)`

// Migrate brings the tenant's realtime schema up to date. Each migration runs in its own
// transaction holding a transaction-scoped advisory lock and re-checks realtime.schema_migrations
// under it, so any number of nodes may call Migrate at once: exactly one applies each version and
// the others see it recorded. It returns how many migrations this call applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	if err := inLockedTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, bootstrapSQL)
		return err
	}); err != nil {
		return 0, fmt.Errorf("bootstrap realtime.schema_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, pool)
	if err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range embedded() {
		if done[m.Version] {
			continue
		}
		ran, err := applyOne(ctx, pool, m)
		if err != nil {
			return applied, err
		}
		if ran {
			applied++
		}
	}
	return applied, nil
}

// Pending reports whether some embedded migration is not recorded yet (cheap check that avoids the
// lock on every pool start).
func Pending(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var exists bool
	if err := pool.QueryRow(ctx, `select to_regclass('realtime.schema_migrations') is not null`).Scan(&exists); err != nil {
		return false, fmt.Errorf("check realtime.schema_migrations: %w", err)
	}
	if !exists {
		return true, nil
	}
	done, err := appliedVersions(ctx, pool)
	if err != nil {
		return false, err
	}
	for _, m := range embedded() {
		if !done[m.Version] {
			return true, nil
		}
	}
	return false, nil
}

func appliedVersions(ctx context.Context, pool *pgxpool.Pool) (map[int64]bool, error) {
	rows, err := pool.Query(ctx, `select version from realtime.schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read realtime.schema_migrations: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read realtime.schema_migrations: %w", err)
	}
	done := make(map[int64]bool, len(vs))
	for _, v := range vs {
		done[v] = true
	}
	return done, nil
}

func applyOne(ctx context.Context, pool *pgxpool.Pool, m Migration) (bool, error) {
	ran := false
	err := inLockedTx(ctx, pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `select exists(select 1 from realtime.schema_migrations where version = $1)`,
			m.Version).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		// No arguments: pgx sends it with the simple protocol, so a file may hold many statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `insert into realtime.schema_migrations (version, inserted_at)
			values ($1, timezone('utc', now()))`, m.Version); err != nil {
			return err
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("migration %d_%s: %w", m.Version, m.Name, err)
	}
	return ran, nil
}

// inLockedTx runs fn in a transaction that first takes the realtime advisory lock.
func inLockedTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
