package tenantdb

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// partitionLockKey serialises partition maintenance between nodes (per database).
const partitionLockKey int64 = 0x7274706172746e73 // "rtpartns"

// PartitionName is the name of the realtime.messages partition holding day (UTC).
func PartitionName(day time.Time) string {
	return "messages_" + day.UTC().Format("2006_01_02")
}

// PartitionDays are the days EnsurePartitions covers around now: yesterday through today+3 (docs/protocol.md#database-broadcast).
func PartitionDays(now time.Time) []time.Time {
	today := now.UTC().Truncate(24 * time.Hour)
	days := make([]time.Time, 0, 5)
	for d := -1; d <= 3; d++ {
		days = append(days, today.AddDate(0, 0, d))
	}
	return days
}

// EnsurePartitions creates the realtime.messages partitions for yesterday through today+3 (UTC).
func EnsurePartitions(ctx context.Context, pool *pgxpool.Pool) error {
	return EnsurePartitionsAt(ctx, pool, time.Now())
}

// EnsurePartitionsAt is EnsurePartitions for a given clock (tests, janitor).
func EnsurePartitionsAt(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1)`, partitionLockKey); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		for _, day := range PartitionDays(now) {
			name := pgx.Identifier{"realtime", PartitionName(day)}.Sanitize()
			sql := fmt.Sprintf(`create table if not exists %s partition of realtime.messages
				for values from ('%s') to ('%s')`, name,
				day.Format("2006-01-02"), day.AddDate(0, 0, 1).Format("2006-01-02"))
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("create partition %s: %w", name, err)
			}
		}
		return nil
	})
}

var partitionRE = regexp.MustCompile(`^messages_(\d{4}_\d{2}_\d{2})$`)

// DropPartitionsBefore drops the realtime.messages partitions whose whole day ends before cutoff
// (the janitor uses now-72h) and returns their names.
func DropPartitionsBefore(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time) ([]string, error) {
	var dropped []string
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1)`, partitionLockKey); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		rows, err := tx.Query(ctx, `select c.relname::text from pg_catalog.pg_inherits i
			join pg_catalog.pg_class c on c.oid = i.inhrelid
			where i.inhparent = 'realtime.messages'::regclass`)
		if err != nil {
			return fmt.Errorf("list partitions: %w", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("list partitions: %w", err)
		}
		for _, n := range names {
			m := partitionRE.FindStringSubmatch(n)
			if m == nil {
				continue
			}
			day, err := time.Parse("2006_01_02", m[1])
			if err != nil || day.AddDate(0, 0, 1).After(cutoff) { // the day has not fully ended by cutoff
				continue
			}
			if _, err := tx.Exec(ctx, "drop table if exists "+pgx.Identifier{"realtime", n}.Sanitize()); err != nil {
				return fmt.Errorf("drop partition %s: %w", n, err)
			}
			dropped = append(dropped, n)
		}
		return nil
	})
	return dropped, err
}
