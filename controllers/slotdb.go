package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// The operator's own connections to tenant databases: the slot probe behind the health
// conditions, and slot drops. They use the tenant's credentials; the URL carries the password and
// is never logged, and pgx errors that could quote it are replaced.

// slotStats is one row of pg_replication_slots, as the Tenant status reports it.
type slotStats struct {
	Exists       bool
	Active       bool
	ConfirmedLSN string
	LagBytes     int64
	WALStatus    string
	SafeWALSize  *int64
}

// probeResult is what one probe of the tenant database saw.
type probeResult struct {
	// ConnectErr is set when the database could not be reached (or rejected the login).
	ConnectErr error
	// QueryErr is set when it was reached but pg_replication_slots could not be read.
	QueryErr error
	Slot     slotStats
}

// slotURL builds the connection URL of a slot database; it carries the password.
func slotURL(db *realtimev1.SlotDatabase, password string) string {
	ssl := db.SSLMode
	if ssl == "" {
		ssl = realtimev1.DefaultDatabaseSSLMode
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(db.User, password),
		Host:     net.JoinHostPort(db.Host, strconv.Itoa(int(db.Port))),
		Path:     "/" + db.Name,
		RawQuery: url.Values{"sslmode": {ssl}, "connect_timeout": {"5"}, "application_name": {"realtime_operator"}}.Encode(),
	}
	return u.String()
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("invalid database settings") // the error would quote the DSN
	}
	cfg.ConnectTimeout = 5 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

// probeSlot connects and reads the slot's row. The lag is the WAL the slot retains
// (pg_current_wal_lsn() - restart_lsn): what fills the database's disk.
func probeSlot(ctx context.Context, dsn, slot string) probeResult {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return probeResult{ConnectErr: err}
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var (
		s         = slotStats{Exists: true}
		confirmed *string
		lag       *int64
		walStatus *string
	)
	err = conn.QueryRow(ctx, `SELECT active, confirmed_flush_lsn::text,
			pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, wal_status, safe_wal_size
		FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&s.Active, &confirmed, &lag, &walStatus, &s.SafeWALSize)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return probeResult{}
	case err != nil:
		return probeResult{QueryErr: fmt.Errorf("read pg_replication_slots: %w", err)}
	}
	if confirmed != nil {
		s.ConfirmedLSN = *confirmed
	}
	if lag != nil {
		s.LagBytes = *lag
	}
	if walStatus != nil {
		s.WALStatus = *walStatus
	}
	return probeResult{Slot: s}
}

// dropReplicationSlot terminates the slot's reader, if any (the slot is going away, so its
// reader must stop anyway), and drops the slot. It reports false when there was no slot.
func dropReplicationSlot(ctx context.Context, dsn, slot string) (bool, error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var exists, active bool
		err := conn.QueryRow(ctx,
			`SELECT true, active FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&exists, &active)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("look up slot: %w", err)
		}
		if active {
			if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
				WHERE slot_name = $1 AND active_pid IS NOT NULL`, slot); err != nil {
				return false, fmt.Errorf("terminate slot reader: %w", err)
			}
		} else if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, slot); err == nil {
			return true, nil
		}
		// The reader may take a moment to exit (or the drop raced with it): retry until timeout.
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("slot still active: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
