package channeldb

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/replay"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

// A failed replay shows the client only upstream's reason but keeps the cause for the logs.
func TestReplayErrorKeepsCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens: connecting is refused
	pools := tenantdb.NewManager(slog.New(slog.DiscardHandler), tenantdb.Options{JanitorInterval: -1, ConnectTimeout: time.Second})
	t.Cleanup(pools.Close)
	a := &Access{Pools: pools}
	tn := &tenant.Tenant{ExternalID: "t1",
		Database: &tenant.Database{Host: "127.0.0.1", Port: port, User: "postgres", Password: "s3cret-pw", SSLMode: "disable"}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tests := []struct {
		name, params, reason string
		cause                bool
	}{
		{"invalid params", `{"limit":1}`, replay.ReasonInvalidParams, false},
		{"database unreachable", `{"since":0}`, replay.ReasonFailed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Replay(ctx, tn, "room", json.RawMessage(tt.params))
			var r channel.Reasoned
			if !errors.As(err, &r) || r.JoinReason() != tt.reason {
				t.Fatalf("err = %v, want join reason %q", err, tt.reason)
			}
			var dbErr *tenantdb.Error
			if got := errors.As(err, &dbErr); got != tt.cause {
				t.Fatalf("cause kept = %v, want %v (err %v)", got, tt.cause, err)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Fatalf("password in error text: %v", err)
			}
		})
	}
}
