// Package changesws is the multi-process tests' raw Phoenix V2 WebSocket client for Postgres
// Changes (test/clusterchanges, test/clusterrtt): it joins realtime:<table> for the INSERTs on
// public.<table> and records in a rowlog.Log when each row id first arrived
// (docs/protocol.md#change-payloads) and the postgres_changes system messages
// (docs/protocol.md#system-messages). Dialing stays with the caller (the tests reach the nodes
// differently).
package changesws

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/internal/rowlog"
	"github.com/realtimeops/realtime/node/auth"
)

// AnonJWT is an HS256 token with role anon, valid for an hour.
func AnonJWT(secret string) string {
	tok, err := auth.SignHS256([]byte(secret), map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		panic(fmt.Sprintf("sign a test token: %v", err)) // only for an empty secret, a test's own mistake
	}
	return tok
}

// Subscribe joins realtime:<table> on conn (a V2 connection) with token and Postgres Changes for
// the INSERTs on public.<table>, then reads conn into the returned log until ctx ends or conn
// closes.
func Subscribe(ctx context.Context, conn *websocket.Conn, token, table string) (*rowlog.Log, error) {
	conn.SetReadLimit(1 << 20)
	join := []any{"1", "1", "realtime:" + table, "phx_join", map[string]any{
		"access_token": token,
		"config": map[string]any{
			"broadcast": map[string]any{"self": false}, "presence": map[string]any{"enabled": false}, "private": false,
			"postgres_changes": []any{map[string]any{"event": "INSERT", "schema": "public", "table": table}},
		}}}
	b, err := json.Marshal(join)
	if err != nil {
		return nil, fmt.Errorf("encode join: %w", err)
	}
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	log := rowlog.New()
	go read(ctx, conn, log) // owned by conn: ends when it closes (the caller's cleanup) or ctx ends
	return log, nil
}

func read(ctx context.Context, conn *websocket.Conn, log *rowlog.Log) {
	ReadEvents(ctx, conn, func(event string, payload json.RawMessage) {
		switch event {
		case "postgres_changes":
			var p struct {
				Data struct {
					Record struct {
						ID int64 `json:"id"`
					} `json:"record"`
				} `json:"data"`
			}
			if json.Unmarshal(payload, &p) == nil {
				log.Row(p.Data.Record.ID)
			}
		case "system":
			var p struct{ Extension, Status, Message string }
			if json.Unmarshal(payload, &p) == nil && p.Extension == "postgres_changes" {
				log.System(p.Status, p.Message)
			}
		}
	})
}

// ReadEvents reads V2 text frames ([join_ref, ref, topic, event, payload]) from conn and calls on
// with each frame's event and payload, until a read fails (conn closed, ctx ended). Frames of
// another shape are skipped.
func ReadEvents(ctx context.Context, conn *websocket.Conn, on func(event string, payload json.RawMessage)) {
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var f []json.RawMessage
		if json.Unmarshal(data, &f) != nil || len(f) < 5 {
			continue
		}
		var event string
		_ = json.Unmarshal(f[3], &event)
		on(event, f[4])
	}
}
