package changes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/node/tenant"
)

// SubscribedMessage is the system message sent once the subscription is live.
const SubscribedMessage = "Subscribed to PostgreSQL"

// permanentError is a subscription error that retrying cannot fix (docs/protocol.md#system-messages "not retried").
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

// Subscribe registers a channel's bindings on tenant t for the subscriber's JWT claims. It returns
// at once; validation against the database runs in the background and ends with a system message:
// "Subscribed to PostgreSQL" only when the stream will deliver the next commit (readiness), or an
// error text of docs/protocol.md#system-messages. Transient failures (database unreachable) are reported and retried with
// backoff until unsubscribe. unsubscribe stops deliveries; it is safe to call more than once.
func (s *Service) Subscribe(ctx context.Context, t *tenant.Tenant, claims map[string]any, bindings []Binding, sub Subscriber) (unsubscribe func()) {
	ctx, cancel := context.WithCancel(ctx)
	ts := s.tenant(t)
	s.poke()
	var (
		once  sync.Once
		mu    sync.Mutex
		added *subscription
		token string
	)
	unsubscribe = func() {
		once.Do(func() {
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if added != nil {
				ts.reg.remove(added)
				ts.reg.ready.remove(token)
			}
		})
	}
	if len(bindings) == 0 {
		return unsubscribe
	}
	for _, b := range bindings {
		if b.paramsErr != "" {
			go sub.System("error", b.paramsErr)
			return unsubscribe
		}
	}
	go func() {
		subn, err := s.validateWithRetry(ctx, t, claims, bindings, sub)
		if err != nil {
			return // reported, or unsubscribed
		}
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		ts.reg.add(subn)
		added = subn
		if n, ok := sub.(RegisteredNotifier); ok {
			n.Registered()
		}
		token = s.markReady(ctx, t, ts.reg, sub)
	}()
	return unsubscribe
}

func (s *Service) validateWithRetry(ctx context.Context, t *tenant.Tenant, claims map[string]any, bindings []Binding, sub Subscriber) (*subscription, error) {
	backoff := time.Second
	lastMsg := ""
	for {
		subn, err := s.validate(ctx, t, claims, bindings)
		if err == nil {
			subn.sub = sub
			return subn, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var perm permanentError
		if errors.As(err, &perm) {
			sub.System("error", perm.msg)
			return nil, err
		}
		s.log.Warn("postgres changes subscribe failed, retrying", "tenant", t.ExternalID, "err", err)
		if msg := transientText(err); msg != lastMsg {
			sub.System("error", msg)
			lastMsg = msg
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func transientText(err error) string {
	if errors.Is(err, ErrWalLevel) {
		return "Unable to subscribe to changes: " + err.Error()
	}
	return "Realtime was unable to connect to the project database"
}

// markReady asks the stream to confirm it has read past this point; the system message follows
// then (see mark).
func (s *Service) markReady(ctx context.Context, t *tenant.Tenant, reg *registry, sub Subscriber) string {
	token, err := s.mark(ctx, t, reg, "", func() { sub.System("ok", SubscribedMessage) })
	if err != nil && ctx.Err() == nil {
		// No position and no token in the stream: the subscription is live but the subscriber
		// never hears "Subscribed to PostgreSQL".
		s.log.Warn("readiness position unavailable", "tenant", t.ExternalID, "err", err)
	}
	return token
}

// mark registers fire to run once the stream has read past this point: a non-transactional
// logical message carries a token the reader recognises; its LSN (or, if the message cannot be
// written, pg_current_wal_lsn()) also serves as a position to pass. The waiter is registered
// before the message is written (the reader may see the token before the query returns); until
// the position is known only the token can fire it. On error the waiter stays registered with
// no position; the caller removes it with reg.ready.remove(token).
func (s *Service) mark(ctx context.Context, t *tenant.Tenant, reg *registry, prefix string, fire func()) (string, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	token := prefix + hex.EncodeToString(b[:])
	reg.ready.add(token, pglogrepl.LSN(^uint64(0)), fire)
	lsn, err := s.readyPosition(ctx, t, token)
	if err != nil {
		return token, err
	}
	reg.ready.setLSN(token, lsn)
	return token, nil
}

// readyPosition writes the readiness message carrying token and returns its LSN, or the current
// WAL position when the message cannot be written.
func (s *Service) readyPosition(ctx context.Context, t *tenant.Tenant, token string) (pglogrepl.LSN, error) {
	pool, err := s.pools.Pool(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("tenant pool: %w", err)
	}
	var lsn pglogrepl.LSN
	err = pool.QueryRow(ctx, "select pg_logical_emit_message(false, $1, $2)::text", readyPrefix, token).Scan(&lsn)
	if err == nil {
		return lsn, nil
	}
	if err := pool.QueryRow(ctx, "select pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return 0, fmt.Errorf("current wal position: %w", err)
	}
	return lsn, nil
}

// canonicalClaims is the claims' JSON with sorted keys: identical claims → identical groups.
func canonicalClaims(claims map[string]any) (role, canon string) {
	role, _ = claims["role"].(string)
	if role == "" {
		role = "anon"
	}
	b, err := json.Marshal(claims)
	if err != nil || claims == nil {
		b = []byte("{}")
	}
	return role, string(b)
}

// validate checks the bindings against the database like the realtime.subscription insert and its
// trigger do, and compiles their filters.
func (s *Service) validate(ctx context.Context, t *tenant.Tenant, claims map[string]any, bindings []Binding) (*subscription, error) {
	if t.Database == nil {
		return nil, permanentError{"Postgres Changes need a tenant database"}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pool, err := s.pools.Pool(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("tenant pool: %w", err)
	}
	if err := checkWalLevel(ctx, pool); err != nil {
		return nil, err
	}
	role, canon := canonicalClaims(claims)
	subn := &subscription{role: role, claims: canon, group: role + "\x00" + canon}
	tables, err := publicationTables(ctx, pool)
	if err != nil {
		return nil, err
	}
	var roleOK bool
	if err := pool.QueryRow(ctx, "select exists(select 1 from pg_roles where rolname = $1)", role).Scan(&roleOK); err != nil {
		return nil, fmt.Errorf("look up role: %w", err)
	}
	for _, b := range bindings {
		bd := &bound{Binding: b}
		var matched []pubTable
		for _, pt := range tables {
			if nameMatches(b.Schema, pt.schema) && nameMatches(b.Table, pt.table) {
				matched = append(matched, pt)
			}
		}
		if isNamePattern(b.Schema) || isNamePattern(b.Table) {
			bd.tables = matched
		}
		if len(matched) == 0 {
			return nil, permanentError{"Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [" + b.paramsLog() + "]"}
		}
		if !roleOK {
			return nil, exceptionError(b, fmt.Sprintf("ERROR 22023 (invalid_parameter_value) role \"%s\" does not exist", role))
		}
		if b.selected != nil {
			bd.sel = map[string]bool{}
			for _, c := range b.selected {
				bd.sel[c] = true
			}
		}
		if len(b.conds) > 0 || b.selected != nil {
			if err := compileBinding(ctx, pool, role, matched[0], bd); err != nil {
				return nil, err
			}
		}
		subn.binds = append(subn.binds, bd)
	}
	return subn, nil
}

type pubTable struct {
	schema, table string
	oid           uint32
}

func publicationTables(ctx context.Context, pool *pgxpool.Pool) ([]pubTable, error) {
	rows, err := pool.Query(ctx, `select schemaname::text, tablename::text, format('%I.%I', schemaname, tablename)::regclass::oid
		from pg_publication_tables where pubname = $1`, ChangesPublication)
	if err != nil {
		return nil, fmt.Errorf("read publication tables: %w", err)
	}
	defer rows.Close()
	var out []pubTable
	for rows.Next() {
		var p pubTable
		if err := rows.Scan(&p.schema, &p.table, &p.oid); err != nil {
			return nil, fmt.Errorf("scan publication table: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func exceptionError(b Binding, exception string) error {
	return permanentError{"Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [" +
		b.paramsLog() + "]. Exception: " + strings.TrimSpace(exception)}
}
