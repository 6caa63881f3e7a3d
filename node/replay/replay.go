// Package replay serves config.broadcast.replay on private channel joins (docs/protocol.md#replay): it validates
// the client's params and reads the newest private broadcasts of the topic from realtime.messages.
package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Join reasons of docs/protocol.md#join-pipeline rows 10-11.
const (
	ReasonPublicChannel = "UnableToReplayMessages: Replay is not allowed for public channels"
	ReasonInvalidParams = "UnableToReplayMessages: Replay params are not valid"
	ReasonFailed        = "UnableToReplayMessages: Realtime was unable to replay messages"
)

// DefaultLimit and MaxLimit bound how many messages one join replays.
const (
	DefaultLimit = 25
	MaxLimit     = 25
)

// ErrInvalidParams is returned by Parse; its text is the join reason.
var ErrInvalidParams = errors.New(ReasonInvalidParams)

// Params are validated replay parameters.
type Params struct {
	// Since is the lower bound of inserted_at, in milliseconds since the Unix epoch.
	Since int64
	// Limit is in 1..MaxLimit.
	Limit int
}

// Parse validates the value of config.broadcast.replay: an object whose "since" is an integer and
// whose "limit" is an integer, absent or null (-> DefaultLimit), clamped to 1..MaxLimit.
// Numbers written with a fraction or exponent ("1.0", "1e3") are not integers.
func Parse(raw json.RawMessage) (Params, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return Params{}, ErrInvalidParams
	}
	since, ok := integer(obj["since"])
	if !ok {
		return Params{}, ErrInvalidParams
	}
	limit := int64(DefaultLimit)
	if v, present := obj["limit"]; present && !isNull(v) {
		if limit, ok = integer(v); !ok {
			return Params{}, ErrInvalidParams
		}
	}
	return Params{Since: since, Limit: int(min(max(limit, 1), MaxLimit))}, nil
}

// integer accepts a JSON number literal without fraction or exponent that fits in int64.
func integer(v json.RawMessage) (int64, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || bytes.ContainsAny(v, ".eE\"") {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// Message is one replayed broadcast.
type Message struct {
	ID    string
	Event string
	// Payload is the jsonb text as Postgres prints it (for JSON messages).
	Payload json.RawMessage
	// Binary is the body of a binary message (IsBinary).
	Binary     []byte
	IsBinary   bool
	InsertedAt time.Time
}

// Fetch returns, oldest first, the newest p.Limit private broadcasts of topic inserted between
// p.Since and now+1 minute. It runs as the service user (no RLS): the caller already checked
// broadcast.read. Any error means ReasonFailed.
func Fetch(ctx context.Context, pool *pgxpool.Pool, topic string, p Params, now time.Time) ([]Message, error) {
	since := time.UnixMilli(p.Since).UTC()
	until := now.UTC().Add(time.Minute)
	rows, err := pool.Query(ctx, `select id::text, coalesce(event, ''), payload::text, binary_payload, inserted_at
		from realtime.messages
		where topic = $1 and private is true and extension = 'broadcast'
		  and inserted_at >= $2 and inserted_at < $3
		order by inserted_at desc
		limit $4`, topic, since, until, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("replay %q: %w", topic, err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) {
		var m Message
		var payload *string
		if err := row.Scan(&m.ID, &m.Event, &payload, &m.Binary, &m.InsertedAt); err != nil {
			return m, err
		}
		if payload != nil {
			m.Payload = json.RawMessage(*payload)
		} else if m.Binary != nil {
			m.IsBinary = true
		} else {
			m.Payload = json.RawMessage("null")
		}
		return m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay %q: %w", topic, err)
	}
	slices.Reverse(msgs)
	return msgs, nil
}
