// Package authz decides what a user may do on a private channel by running the tenant's own RLS
// policies on realtime.messages (docs/protocol.md#private-channels): a read check with probe rows that are rolled back, and a
// write check with one savepointed insert per extension.
package authz

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Request is the authorization context of one check.
type Request struct {
	// Topic is the sub-topic (without "realtime:").
	Topic string
	// Claims are the verified JWT claims; role and sub are read from them.
	Claims map[string]any
	// Headers are the x-* headers of the WebSocket upgrade, or all headers of a REST request.
	Headers map[string]string
}

// Permissions is the outcome of both checks.
type Permissions struct {
	BroadcastRead, PresenceRead, BroadcastWrite, PresenceWrite bool
}

// Read runs the read check: probe rows for broadcast (and presence when asked) are inserted as the
// service user, the session switches to the user's role and claims, and a probe counts as readable
// if a SELECT through the user's policies returns it. Everything is rolled back.
func Read(ctx context.Context, pool *pgxpool.Pool, req Request, presence bool) (broadcast, presenceRead bool, err error) {
	exts := []string{"broadcast"}
	if presence {
		exts = append(exts, "presence")
	}
	ids := make([]string, len(exts))
	for i := range ids {
		ids[i] = newUUID()
	}
	seen := map[string]bool{}
	err = inRolledBackTx(ctx, pool, func(tx pgx.Tx) error {
		for i, ext := range exts {
			if _, err := tx.Exec(ctx, `insert into realtime.messages (id, topic, extension) values ($1::uuid, $2, $3)`,
				ids[i], req.Topic, ext); err != nil {
				return err
			}
		}
		if err := applySettings(ctx, tx, req); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `select id::text from realtime.messages where id = any($1::uuid[])`, ids)
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, id := range got {
			seen[id] = true
		}
		return nil
	})
	if err != nil {
		return false, false, err
	}
	return seen[ids[0]], presence && seen[ids[len(ids)-1]], nil
}

// Write runs the write check: as the user, insert one broadcast and one presence row, each in a
// savepoint; a row-level-security rejection (42501) means "no", other errors fail the check.
// Everything is rolled back.
func Write(ctx context.Context, pool *pgxpool.Pool, req Request) (broadcast, presence bool, err error) {
	var allowed [2]bool
	err = inRolledBackTx(ctx, pool, func(tx pgx.Tx) error {
		if err := applySettings(ctx, tx, req); err != nil {
			return err
		}
		for i, ext := range []string{"broadcast", "presence"} {
			ok, err := tryInsert(ctx, tx, req.Topic, ext)
			if err != nil {
				return err
			}
			allowed[i] = ok
		}
		return nil
	})
	if err != nil {
		return false, false, err
	}
	return allowed[0], allowed[1], nil
}

func tryInsert(ctx context.Context, tx pgx.Tx, topic, ext string) (bool, error) {
	sp, err := tx.Begin(ctx) // a savepoint: a rejected insert must not abort the next one
	if err != nil {
		return false, err
	}
	_, err = sp.Exec(ctx, `insert into realtime.messages (topic, extension) values ($1, $2)`, topic, ext)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return false, sp.Rollback(ctx)
	}
	if err != nil {
		return false, err
	}
	return true, sp.Rollback(ctx)
}

// applySettings makes the transaction look like a PostgREST request of the user (4.7 table).
// set_config('role', ...) switches role and fails with 22023 when the role does not exist.
func applySettings(ctx context.Context, tx pgx.Tx, req Request) error {
	claims, err := json.Marshal(nonNil(req.Claims))
	if err != nil {
		return fmt.Errorf("encode claims: %w", err)
	}
	headers, err := json.Marshal(nonNilHeaders(req.Headers))
	if err != nil {
		return fmt.Errorf("encode headers: %w", err)
	}
	role, sub := claimString(req.Claims, "role"), claimString(req.Claims, "sub")
	_, err = tx.Exec(ctx, `select set_config('role', $1, true), set_config('realtime.topic', $2, true),
		set_config('request.jwt.claims', $3, true), set_config('request.jwt.claim.sub', $4, true),
		set_config('request.jwt.claim.role', $5, true), set_config('request.headers', $6, true)`,
		role, req.Topic, string(claims), sub, role, string(headers))
	return err
}

// inRolledBackTx runs fn in a transaction that is always rolled back. A caller deadline becomes a
// statement_timeout, so Postgres cancels a slow policy cleanly (57014) instead of the driver
// tearing the connection down.
func inRolledBackTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return classifyAcquire(ctx, err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return classify(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if dl, ok := ctx.Deadline(); ok {
		ms := time.Until(dl).Milliseconds() - 50 // leave the driver time to read the error
		if ms < 1 {
			ms = 1
		}
		if _, err := tx.Exec(ctx, `select set_config('statement_timeout', $1, true)`, strconv.FormatInt(ms, 10)); err != nil {
			return classify(err)
		}
	}
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return nil
}

func claimString(claims map[string]any, key string) string {
	switch v := claims[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func nonNilHeaders(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// newUUID returns a random (version 4) UUID in text form.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
