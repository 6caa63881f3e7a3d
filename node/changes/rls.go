package changes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// rlsSlot is where a match finds its (change, claims group) verdict: row of g.
type rlsSlot struct {
	g   *rlsGroup
	row int32
}

// visible reports the verdict; a match that was never checked is not visible.
func (s rlsSlot) visible() bool { return s.g != nil && s.g.visible[s.row] }

// rlsGroup is every change of one relation that subscribers with identical role and claims must
// be checked for, and the verdicts (visible[i] for rows[i]).
type rlsGroup struct {
	claims  string
	rows    []*pending
	visible []bool
}

// rlsTarget is one (relation, role): one prepared statement shape, one SET ROLE.
type rlsTarget struct {
	rel    *relation
	role   string
	groups []*rlsGroup
	byKey  map[string]*rlsGroup
}

// checkRLS decides, for every match that needs it, whether the subscriber's role and claims may
// SELECT the row (docs/protocol.md#row-visibility). Instead of one query per subscriber per change, it runs one query per
// (relation, role, claims group) per batch with all the batch's primary keys, and sends all of
// them in one round trip (a pipelined read-only transaction). Each group is a separate statement
// after its own set_config, so policies using (select auth.uid()) — an InitPlan, evaluated once
// per statement — see the right claims.
//
// Verdicts are taken only from a snapshot that contains every checked commit (see
// visibility.go): a "not visible" can never mean "not committed yet". The row is judged as it is
// in that snapshot, as upstream's apply_rls judges it when its poll runs: a row deleted before the
// check reaches RLS subscribers as its DELETE only; a row updated again is judged by its newer
// version, and the newer change gets its own verdict.
//
// The verdicts are left in the groups; each RLS-checked match finds its own through m.slot.
func (w *worker) checkRLS(ctx context.Context, todo []*pending) error {
	targets := rlsTargets(todo)
	if len(targets) == 0 {
		return nil
	}
	start := time.Now()
	xids := rlsXids(todo)
	var err error
	for {
		var snap pgSnapshot
		snap, err = w.runRLS(ctx, targets)
		if err != nil {
			break
		}
		if _, ok := snap.seesAll(xids); ok {
			break
		}
		// The stream is ahead of the procarray: wait (cheap snapshot polls) and check again.
		if err := w.waitVisible(ctx, xids); err != nil {
			return err
		}
		clearVerdicts(targets)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.log.Warn("batched RLS check failed, checking groups one by one", "err", err)
		if err := w.waitVisible(ctx, xids); err != nil {
			return err
		}
		clearVerdicts(targets)
		if err := w.checkGroups(ctx, targets); err != nil {
			return err
		}
	}
	w.metrics.rlsSeconds.Observe(time.Since(start).Seconds())
	return nil
}

// clearVerdicts forgets every verdict (a check whose snapshot missed a commit is retried whole).
func clearVerdicts(targets []*rlsTarget) {
	for _, tg := range targets {
		for _, g := range tg.groups {
			clear(g.visible)
		}
	}
}

// checkGroups runs each claims group on its own, after a batched check failed, so that one
// failing policy only affects its own group. Commits are already visible (waitVisible ran).
func (w *worker) checkGroups(ctx context.Context, targets []*rlsTarget) error {
	for _, tg := range targets {
		for _, g := range tg.groups {
			one := &rlsTarget{rel: tg.rel, role: tg.role, groups: []*rlsGroup{g}}
			if _, err := w.runRLS(ctx, []*rlsTarget{one}); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if !isPolicyError(err) {
					// Not the policy's answer (connection lost, server shutting down, ...): fail
					// the batch, so the stream restarts and the unconfirmed changes come again.
					return fmt.Errorf("RLS check of %s.%s: %w", tg.rel.schema, tg.rel.name, err)
				}
				// The server refused: a policy that raises, a role without privileges. Not
				// visible (upstream's RlsPolicyError), and counted: the check could not decide.
				// Rows the failed statement returned before it failed count as undecided too.
				clear(g.visible)
				w.metrics.rlsInconclusive.WithLabelValues("policy_error").Add(float64(len(g.rows)))
				w.log.Warn("RLS check failed; changes not delivered to this group", "err", err,
					"table", tg.rel.schema+"."+tg.rel.name, "role", tg.role, "rows", len(g.rows))
			}
		}
	}
	return nil
}

// isPolicyError reports whether a failed check is the server's final answer for that group (a
// policy that raises, a missing privilege, a statement timeout of a slow policy) rather than a
// failure of the connection or the server, after which the same check may well succeed.
func isPolicyError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC" {
		return false
	}
	if pgErr.Code == "57014" { // query_canceled: statement_timeout; retrying would time out again
		return true
	}
	switch pgErr.Code[:2] {
	case "08", "40", "53", "57", "58", "XX": // connection, rollback, resources, operator, system
		return false
	}
	return true
}

// rlsTargets groups the matches that need an RLS check by (relation, role) and claims group, and
// points each match at its verdict's slot.
func rlsTargets(todo []*pending) []*rlsTarget {
	type targetKey struct {
		rel  *relation // not the id: a Relation message mid-batch makes a new shape
		role string
	}
	var targets []*rlsTarget
	byTarget := map[targetKey]*rlsTarget{}
	for _, p := range todo {
		for i := range p.matches {
			m := &p.matches[i]
			if !m.rls {
				continue
			}
			tk := targetKey{p.ch.rel, m.s.role}
			tg := byTarget[tk]
			if tg == nil {
				tg = &rlsTarget{rel: p.ch.rel, role: m.s.role, byKey: map[string]*rlsGroup{}}
				byTarget[tk] = tg
				targets = append(targets, tg)
			}
			g := tg.byKey[m.s.group]
			if g == nil {
				g = &rlsGroup{claims: m.s.claims}
				tg.byKey[m.s.group] = g
				tg.groups = append(tg.groups, g)
			}
			// Every match of p is seen before the next change's: p, if already in g, is last.
			if n := len(g.rows); n == 0 || g.rows[n-1] != p {
				g.rows = append(g.rows, p)
			}
			m.slot = rlsSlot{g: g, row: int32(len(g.rows) - 1)}
		}
	}
	for _, tg := range targets {
		for _, g := range tg.groups {
			g.visible = make([]bool, len(g.rows))
		}
	}
	return targets
}

// rlsXids lists the transactions of the changes that need an RLS check, once each: todo is in
// stream order, so a transaction's changes are adjacent.
func rlsXids(todo []*pending) []uint32 {
	var xids []uint32
	var last *txn
	for _, p := range todo {
		if p.commit == last || !p.needsRLS() {
			continue
		}
		last = p.commit
		xids = append(xids, p.commit.xid)
	}
	return xids
}

func (p *pending) needsRLS() bool {
	for i := range p.matches {
		if p.matches[i].rls {
			return true
		}
	}
	return false
}

// runRLS runs the targets' checks in one REPEATABLE READ transaction and returns its snapshot,
// so the caller can tell whether the verdicts saw every checked commit.
func (w *worker) runRLS(ctx context.Context, targets []*rlsTarget) (pgSnapshot, error) {
	tx, err := w.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return pgSnapshot{}, fmt.Errorf("begin RLS check: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }() // after Commit it only reports ErrTxClosed
	b := &pgx.Batch{}
	var snapText string
	// The first statement fixes the transaction's snapshot; every check below reads through it.
	b.Queue("select pg_current_snapshot()::text, set_config('statement_timeout', '10s', true)").
		QueryRow(func(row pgx.Row) error {
			var timeout string
			return row.Scan(&snapText, &timeout)
		})
	for _, tg := range targets {
		b.Queue("select set_config('role', $1, true)", tg.role)
		sql := rlsSQL(tg.rel)
		var args []any
		var argRows []*pending
		for _, g := range tg.groups {
			b.Queue("select set_config('request.jwt.claims', $1, true)", g.claims)
			if !slices.Equal(g.rows, argRows) { // groups usually check the same rows: built once
				args, argRows = rlsArgs(tg.rel, g.rows), g.rows
			}
			g := g
			b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var pos int64 // ordinality: from 1
					if err := rows.Scan(&pos); err != nil {
						return err
					}
					if pos < 1 || pos > int64(len(g.visible)) {
						return fmt.Errorf("RLS check returned position %d of %d", pos, len(g.visible))
					}
					g.visible[pos-1] = true
				}
				return rows.Err()
			})
			w.metrics.rlsQueries.Inc()
		}
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return pgSnapshot{}, fmt.Errorf("RLS batch: %w", err)
	}
	snap, err := parseSnapshot(snapText)
	if err != nil {
		return pgSnapshot{}, fmt.Errorf("RLS batch: %w", err)
	}
	return snap, nil
}

// waitVisible polls new snapshots until every transaction in xids is visible. The window is
// microseconds on a lone server; with a synchronous standby a commit stays invisible until the
// standby answers, so there is no deadline: the tenant's stream waits (its lag grows and a WARN
// repeats) rather than judge a row before its commit can be seen.
func (w *worker) waitVisible(ctx context.Context, xids []uint32) error {
	start := time.Now()
	delay := 100 * time.Microsecond
	warnAt := start.Add(5 * time.Second)
	for {
		var text string
		if err := w.pool.QueryRow(ctx, "select pg_current_snapshot()::text").Scan(&text); err != nil {
			return fmt.Errorf("RLS visibility wait: %w", err)
		}
		snap, err := parseSnapshot(text)
		if err != nil {
			return fmt.Errorf("RLS visibility wait: %w", err)
		}
		xid, ok := snap.seesAll(xids)
		if ok {
			w.metrics.rlsWaitSeconds.Observe(time.Since(start).Seconds())
			return nil
		}
		if now := time.Now(); now.After(warnAt) {
			w.log.Warn("RLS check waiting for a streamed commit to become visible (synchronous standby not answering?)",
				"xid", xid, "waited", now.Sub(start).Round(time.Millisecond))
			warnAt = now.Add(30 * time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 20*time.Millisecond)
	}
}

// rlsSQL is the visibility query of a relation: which of the given primary keys are visible.
//
// Its plan must not depend on how many keys a batch holds or how large the table is: one
// primary-key index probe per key, under the role's policies (docs/protocol.md#row-visibility).
// The key comparison sits in a LATERAL subquery with LIMIT 1, where the key is a parameter of the
// inner scan. The planner can neither flatten it into a join nor pick another join order, so
// generic and custom plans, 2 keys or 20,000, small or large tables, all plan as
//
//	Nested Loop -> Function Scan on k -> Limit -> Index Scan using <pkey> (Index Cond: key = k.pN)
//
// The earlier form, "where exists (select 1 from t where t.pk = k.pN::type)", was flattened
// into a semi join; because the cast of k.pN is not leakproof, that join clause may not be pushed
// below the policy's security barrier into an index scan, so every statement scanned the whole
// table (a hash semi join on a seq scan), whatever the number of keys: the cost of a batch grew
// with batches x claims groups x table rows, and the throughput varied with how the stream
// happened to cut the batches (docs/benchmarks.md, "RLS plans").
func rlsSQL(rel *relation) string {
	var cols, conds, params []string
	for n, ci := range rel.pk {
		cols = append(cols, fmt.Sprintf("p%d", n))
		params = append(params, fmt.Sprintf("$%d::text[]", n+1))
		conds = append(conds, fmt.Sprintf("t.%s = k.p%d::%s", pgx.Identifier{rel.cols[ci].name}.Sanitize(), n, rel.pkCast[n]))
	}
	cols = append(cols, "i") // the key's position in the arrays, from 1
	return fmt.Sprintf("select k.i from unnest(%s) with ordinality as k(%s) cross join lateral (select from %s t where %s limit 1) as v",
		strings.Join(params, ", "), strings.Join(cols, ", "), rel.quoted, strings.Join(conds, " and "))
}

// rlsArgs is the arguments of rlsSQL for rows: the key columns (text; NULL when the new image
// lacks the value), row i at position i+1. The keys point into the decoded changes, which nothing
// modifies.
func rlsArgs(rel *relation, rows []*pending) []any {
	keys := make([][]*string, len(rel.pk))
	for n := range keys {
		keys[n] = make([]*string, len(rows))
	}
	for i, p := range rows {
		for n, ci := range rel.pk {
			if ci < len(p.ch.newT) && p.ch.newT[ci].state == 't' {
				keys[n][i] = &p.ch.newT[ci].text
			}
		}
	}
	args := make([]any, 0, len(keys))
	for _, k := range keys {
		args = append(args, k)
	}
	return args
}

// bypassRLS reports whether a role skips RLS altogether (superuser or BYPASSRLS, e.g.
// service_role), cached per tenant.
func (w *worker) bypassRLS(ctx context.Context, role string) bool {
	w.mu.Lock()
	e, ok := w.bypass[role]
	w.mu.Unlock()
	if ok && time.Since(e.at) < catalogTTL {
		return e.v
	}
	var v bool
	err := w.pool.QueryRow(ctx, "select coalesce((select rolsuper or rolbypassrls from pg_roles where rolname = $1), false)", role).Scan(&v)
	if err != nil {
		return false // check normally
	}
	w.mu.Lock()
	if w.bypass == nil {
		w.bypass = map[string]cachedBool{}
	}
	w.bypass[role] = cachedBool{v: v, at: time.Now()}
	w.mu.Unlock()
	return v
}

type cachedBool struct {
	v  bool
	at time.Time
}
