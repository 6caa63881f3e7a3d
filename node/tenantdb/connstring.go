package tenantdb

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/realtimeops/realtime/node/tenant"
)

// application_name values of docs/protocol.md#tenant-database, so a DBA can tell the node's connections apart.
const (
	AppConnect       = "realtime_connect"
	AppConnectProbe  = "realtime_connect_probe"
	AppMigrations    = "realtime_migrations"
	AppRLS           = "realtime_rls"
	AppJanitor       = "realtime_janitor"
	AppReplication   = "realtime_replication_connection"
	AppSubscriptions = "realtime_subscription_manager"
)

// DefaultSSLMode applies when a tenant leaves sslmode empty: TLS without verification, as upstream's
// ssl_enforced default (docs/protocol.md#tenant-database) and the Tenant CRD default.
const DefaultSSLMode = "require"

// ConnString renders a libpq URL for d with the given application_name. sslmode is d.SSLMode
// (disable|allow|prefer|require|verify-ca|verify-full), else DefaultSSLMode.
func ConnString(d *tenant.Database, appName string) string {
	port := d.Port
	if port == 0 {
		port = 5432
	}
	name := d.Name
	if name == "" {
		name = "postgres"
	}
	ssl := d.SSLMode
	if ssl == "" {
		ssl = DefaultSSLMode
	}
	q := url.Values{}
	q.Set("sslmode", ssl)
	if appName != "" {
		q.Set("application_name", appName)
	}
	u := url.URL{
		Scheme:   "postgres",
		Host:     net.JoinHostPort(d.Host, strconv.Itoa(port)),
		Path:     "/" + name,
		RawQuery: q.Encode(),
	}
	if d.Password != "" {
		u.User = url.UserPassword(d.User, d.Password)
	} else if d.User != "" {
		u.User = url.User(d.User)
	}
	return u.String()
}

// CheckLogical returns a clear error when the server's wal_level is not logical, which Postgres
// Changes and database broadcasts need (logical replication slots).
func CheckLogical(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) error {
	var level string
	if err := conn.QueryRow(ctx, `select current_setting('wal_level')`).Scan(&level); err != nil {
		return fmt.Errorf("read wal_level: %w", err)
	}
	return walLevelError(level)
}

// walLevelError is the pure half of CheckLogical.
func walLevelError(level string) error {
	if level == "logical" {
		return nil
	}
	return newError(CodeWalLevelNotLogical, fmt.Sprintf(msgWalLevelNotLogicalFm, level), nil)
}
