package channeldb

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/node/authz"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

// TestPoolExhaustionFailsFast: once as many checks as the pool has connections waited out their
// deadline for a connection, the tenant's checks fail fast with IncreaseConnectionPool (even
// with a free connection), logged once; another tenant's checks are not affected.
func TestPoolExhaustionFailsFast(t *testing.T) {
	inst := pgtest.Start(t)
	db := inst.CreateDatabase(t, "tenant")
	pools := tenantdb.NewManager(slog.New(slog.DiscardHandler), tenantdb.Options{JanitorInterval: -1, MaxConns: 1})
	t.Cleanup(pools.Close)
	var logs testutil.LockedBuffer
	a := &Access{Pools: pools, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	dbOf := func() *tenant.Database {
		return &tenant.Database{Host: inst.Host, Port: inst.Port, Name: db, User: "postgres", SSLMode: "disable"}
	}
	busy := &tenant.Tenant{ExternalID: "busy", Database: dbOf()}
	other := &tenant.Tenant{ExternalID: "other", Database: dbOf()}
	req := channel.AuthzRequest{Topic: "room", Claims: map[string]any{"role": "authenticated", "sub": "u1"}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pool, err := pools.Pool(ctx, busy)
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	held, err := pool.Acquire(ctx) // the pool's only connection
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = a.Read(short, busy, req, false)
	cancelShort()
	wantKind(t, "check on a busy pool", err, authz.KindPoolExhausted)
	held.Release()
	if n := strings.Count(logs.String(), "IncreaseConnectionPool: Too many database timeouts"); n != 1 {
		t.Errorf("flag logged %d times, want 1; logs:\n%s", n, logs.String())
	}

	// The connection is free again, but the tenant is flagged for 30 s: fail fast.
	for _, check := range []func() error{
		func() error { _, _, err := a.Write(ctx, busy, req); return err },
		func() error { _, _, err := a.Read(ctx, busy, req, true); return err },
	} {
		wantKind(t, "check of a flagged tenant", check(), authz.KindPoolExhausted)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged, want the flag once; logs:\n%s", n, logs.String())
	}
	if _, _, err := a.Read(ctx, other, req, false); err != nil {
		var ae *authz.Error
		if errors.As(err, &ae) && ae.Kind == authz.KindPoolExhausted {
			t.Errorf("another tenant's check failed with the busy tenant's flag: %v", err)
		}
	}
}

func wantKind(t *testing.T, what string, err error, kind authz.Kind) {
	t.Helper()
	var ae *authz.Error
	if !errors.As(err, &ae) || ae.Kind != kind {
		t.Fatalf("%s: err = %v, want kind %v", what, err, kind)
	}
	if r := ae.JoinReason("room"); r != "IncreaseConnectionPool: Please increase your connection pool size" {
		t.Fatalf("%s: join reason %q", what, r)
	}
}
