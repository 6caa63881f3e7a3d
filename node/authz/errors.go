package authz

import (
	"context"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/realtimeops/realtime/node/tenantdb"
)

// Kind classifies a failed authorization check (docs/protocol.md#private-channels error table).
type Kind int

const (
	// KindPolicy means a policy raised, the JWT role does not exist, or any other Postgres error.
	KindPolicy Kind = iota + 1
	// KindQueryCanceled means statement timeout or cancellation (57014).
	KindQueryCanceled
	// KindMissingPartition means no realtime.messages partition covers now (23514).
	KindMissingPartition
	// KindUnavailable means the tenant database could not be reached.
	KindUnavailable
	// KindPoolExhausted means no pool connection became free in time.
	KindPoolExhausted
	// KindUnknown means anything else (a bug or an unexpected driver error).
	KindUnknown
)

var kindNames = map[Kind]string{
	KindPolicy: "RlsPolicyError", KindQueryCanceled: "QueryCanceled", KindMissingPartition: "MissingPartition",
	KindUnavailable: "UnableToConnectToProject", KindPoolExhausted: "IncreaseConnectionPool", KindUnknown: "UnableToSetPolicies",
}

// String is the log code of docs/protocol.md#error-codes for the kind.
func (k Kind) String() string { return kindNames[k] }

// Error is a failed check. Err is the cause and may hold SQL details: log it, never send it, except
// the query-canceled text which docs/protocol.md#join-pipeline puts in the join reason.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Kind.String() + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Unauthorized is the join reason for a private channel the user may not read (docs/protocol.md#join-pipeline row 9).
func Unauthorized(subTopic string) string {
	return "Unauthorized: You do not have permissions to read from this Channel topic: " + subTopic
}

// JoinReason is the phx_join error reason of docs/protocol.md#join-pipeline row 9.
func (e *Error) JoinReason(subTopic string) string {
	switch e.Kind {
	case KindPolicy:
		return Unauthorized(subTopic)
	case KindQueryCanceled:
		return "QueryCanceled: " + e.details()
	case KindMissingPartition:
		return "MissingPartition: Realtime was unable to find the expected messages partition"
	case KindUnavailable:
		return "Realtime was unable to connect to the project database"
	case KindPoolExhausted:
		return "IncreaseConnectionPool: Please increase your connection pool size"
	default:
		return "Unknown Error on Channel"
	}
}

// REST is the status and message of a private REST broadcast that failed authorization (docs/protocol.md#rest-single-broadcast).
func (e *Error) REST() (status int, message string) {
	switch e.Kind {
	case KindPolicy:
		return http.StatusUnprocessableEntity, "RLS policy error"
	case KindQueryCanceled:
		return http.StatusUnprocessableEntity, "Query canceled"
	case KindMissingPartition:
		return http.StatusUnprocessableEntity, "Missing messages partition"
	case KindUnavailable:
		return http.StatusUnprocessableEntity, "Tenant database unavailable"
	case KindPoolExhausted:
		return http.StatusTooManyRequests, "Connection pool exhausted"
	default:
		return http.StatusInternalServerError, "Unable to authorize broadcast"
	}
}

func (e *Error) details() string {
	var pgErr *pgconn.PgError
	if errors.As(e.Err, &pgErr) {
		return pgErr.Message
	}
	return e.Err.Error()
}

// classify maps an error from inside a check (after a connection was acquired).
func classify(err error) *Error {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		switch {
		case pgErr.Code == "57014":
			return &Error{Kind: KindQueryCanceled, Err: err}
		case pgErr.Code == "23514":
			return &Error{Kind: KindMissingPartition, Err: err}
		case tenantdb.IsConnectionError(err):
			return &Error{Kind: KindUnavailable, Err: err}
		default:
			return &Error{Kind: KindPolicy, Err: err}
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), pgconn.Timeout(err):
		return &Error{Kind: KindQueryCanceled, Err: err}
	case tenantdb.IsConnectionError(err):
		return &Error{Kind: KindUnavailable, Err: err}
	default:
		return &Error{Kind: KindUnknown, Err: err}
	}
}

// classifyAcquire maps a pool checkout failure: waiting out the caller's deadline means every
// connection was busy; anything else means the database could not be reached.
func classifyAcquire(ctx context.Context, err error) *Error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindPoolExhausted, Err: err}
	}
	return &Error{Kind: KindUnavailable, Err: err}
}
