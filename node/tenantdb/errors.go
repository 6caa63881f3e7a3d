// Package tenantdb connects the node to tenants' Postgres databases: one bounded pgx pool per
// tenant, opened lazily (docs/protocol.md#tenant-database), with the tenant-side SQL contract installed by versioned,
// lock-protected migrations and the realtime.messages partitions kept ahead of the clock.
package tenantdb

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// Codes of docs/protocol.md#error-codes that the tenant connection produces.
const (
	CodeUnableToConnect     = "UnableToConnectToProject"
	CodeLackOfConnections   = "DatabaseLackOfConnections"
	CodeConnectRateLimit    = "DatabaseConnectionRateLimitReached"
	CodeMigrationsFailed    = "MigrationsFailedToRun"
	CodeDisabledForTenant   = "RealtimeDisabledForTenant"
	CodeNoDatabase          = "TenantHasNoDatabase"
	CodePartitionCreation   = "PartitionCreationFailed"
	CodeWalLevelNotLogical  = "WalLevelNotLogical"
	CodeInitializing        = "InitializingProjectConnection"
	msgInitializing         = "Connecting to the project database"
	msgUnableToConnect      = "Realtime was unable to connect to the project database"
	msgLackOfConnections    = "Database can't accept more connections, Realtime won't connect"
	msgConnectRateLimit     = "Too many database connections attempts per second"
	msgMigrationsFailed     = "Realtime was unable to run the tenant database migrations"
	msgDisabledForTenant    = "Realtime disabled for this tenant"
	msgNoDatabase           = "Tenant has no database configured"
	msgPartitionCreation    = "Realtime was unable to create the messages partitions"
	msgWalLevelNotLogicalFm = "wal_level is %q but Postgres Changes and database broadcasts need wal_level = logical (set it in postgresql.conf and restart Postgres)"
)

// Error is a classified tenant-database failure. Code and Message are safe to show to clients;
// Err is the cause, for logs only (it may name hosts, never passwords).
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// JoinReason is the phx_join error reason of docs/protocol.md#join-pipeline row 8: "<Code>: <message>".
func (e *Error) JoinReason() string { return e.Code + ": " + e.Message }

func newError(code, msg string, err error) *Error { return &Error{Code: code, Message: msg, Err: err} }

// classifyConnect maps a failure to reach or log into the database to a code of docs/protocol.md#error-codes.
func classifyConnect(err error) *Error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "53300", "53400": // too_many_connections, configuration_limit_exceeded
			return newError(CodeLackOfConnections, msgLackOfConnections, err)
		}
	}
	return newError(CodeUnableToConnect, msgUnableToConnect, err)
}

// IsConnectionError reports whether err means the database could not be reached (as opposed to a
// query that ran and failed): network errors, connect failures, a closed connection.
func IsConnectionError(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: admin shutdown / crash / cannot connect now.
		c := pgErr.Code
		return len(c) == 5 && c[:2] == "08" || c == "57P01" || c == "57P02" || c == "57P03"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return pgconn.SafeToRetry(err)
}
