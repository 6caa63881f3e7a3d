package changes

import (
	"context"
	"fmt"
)

const (
	maxBatchTxns    = 512
	maxBatchChanges = 20000
	// defaultMaxRecordBytes is the tenant setting poll_max_record_bytes' default (docs/protocol.md#wal-stream).
	defaultMaxRecordBytes = 1 << 20
)

// match is one subscription's matching bindings for one change.
type match struct {
	s     *subscription
	binds []*bound
	privs *rolePrivs // shared by the change's matches of one role
	rls   bool       // visibility must be checked under RLS
	slot  rlsSlot    // where the RLS verdict is (set by checkRLS)
}

// pending is a change with its matches, between filter evaluation and delivery.
type pending struct {
	ch      *change
	commit  *txn
	matches []match
}

// process consumes the reader's items in order. Transactions are batched (everything already
// queued, bounded) so RLS checks run once per batch; only after a batch was fully handed to the
// subscribers does the processed position move to its last transaction's end.
func (w *worker) process(ctx context.Context, in <-chan item) error {
	var batch []*txn
	for {
		var it item
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it = <-in:
		}
		batch = batch[:0]
		changes := 0
		for {
			if it.t == nil {
				if err := w.runBatch(ctx, batch); err != nil {
					return err
				}
				batch, changes = batch[:0], 0
				w.ready.advance(it.pos, it.token)
			} else {
				batch = append(batch, it.t)
				changes += len(it.t.changes)
			}
			if len(batch) >= maxBatchTxns || changes >= maxBatchChanges {
				break
			}
			var ok bool
			select {
			case it, ok = <-in:
			default:
			}
			if !ok {
				break
			}
		}
		if err := w.runBatch(ctx, batch); err != nil {
			return err
		}
	}
}

// runBatch delivers a batch of transactions and then advances the processed position.
func (w *worker) runBatch(ctx context.Context, batch []*txn) error {
	if len(batch) == 0 {
		return nil
	}
	var todo []*pending
	for _, t := range batch {
		if t.end <= w.highWater { // resent after a reconnect: already handed out by this process
			w.metrics.duplicates.Add(float64(len(t.changes)))
			continue
		}
		for _, ch := range t.changes {
			p, err := w.prepare(ctx, t, ch)
			if err != nil {
				return err
			}
			if p != nil {
				todo = append(todo, p)
			}
		}
	}
	if err := w.checkRLS(ctx, todo); err != nil {
		return err
	}
	for _, p := range todo {
		w.deliver(p)
	}
	if b := w.s.hooks.Barrier; b != nil && len(todo) > 0 {
		if err := b(ctx, w.t.ExternalID); err != nil {
			return fmt.Errorf("deliver to cluster peers: %w", err)
		}
	}
	last := batch[len(batch)-1].end
	if last > w.highWater {
		w.highWater = last
	}
	w.advanceIdle(last)
	return nil
}

// prepare loads catalog facts, forwards database broadcasts, and evaluates bindings and filters.
func (w *worker) prepare(ctx context.Context, t *txn, ch *change) (*pending, error) {
	rel := ch.rel
	if err := w.loadRelation(ctx, rel); err != nil {
		return nil, err
	}
	if rel.isMessages && ch.op == 'I' {
		w.broadcast(t, ch)
	}
	if !rel.inChanges {
		return nil, nil
	}
	idx := w.reg.idx.Load()
	if idx.count == 0 {
		return nil, nil
	}
	refs := idx.lookup(rel.schema, rel.name, nil)
	if len(refs) == 0 {
		return nil, nil
	}
	p := &pending{ch: ch, commit: t}
	var of map[*subscription]int // p.matches by subscription, when a scan per ref would be slow
	if len(refs) > 8 {
		if w.matchOf == nil {
			w.matchOf = map[*subscription]int{}
		}
		of = w.matchOf
		defer clear(of) // holds no subscription past this change
	}
	image := ch.newT
	if ch.op == 'D' {
		image = ch.oldT
	}
	op := opName(ch.op)
	hits := w.hits[:0] // the matching refs first, so p.matches is allocated once
	for _, rf := range refs {
		if rf.b.Event != "*" && rf.b.Event != op {
			continue
		}
		if !filtersMatch(rf.b.conds, rel, image, ch.oldT) {
			continue
		}
		hits = append(hits, rf)
	}
	p.matches = make([]match, 0, len(hits))
	one := make([]*bound, len(hits)) // each new match's first binding, one allocation per change
	for _, rf := range hits {
		p.add(rf, of, one)
	}
	clear(hits)
	w.hits = hits
	// Privileges and the RLS decision depend on the role only: looked up once per role per change
	// (usually one or two roles for hundreds of matches).
	var (
		role  string
		privs *rolePrivs
		rls   bool
	)
	for i := range p.matches {
		m := &p.matches[i]
		if privs == nil || m.s.role != role {
			pv, err := rel.privsFor(ctx, w.pool, m.s.role)
			if err != nil {
				return nil, err
			}
			role, privs = m.s.role, &pv
			rls = rel.rls && ch.op != 'D' && len(rel.pk) > 0 && pv.allPK && !w.bypassRLS(ctx, role)
		}
		m.privs, m.rls = privs, rls
	}
	return p, nil
}

// add records that binding rf.b of subscription rf.s matches p. of, when not nil, indexes
// p.matches by subscription: a change on a table with 1,000 subscribers has 1,000 refs, and a
// scan of p.matches per ref made prepare quadratic in the subscribers. one has a slot for every
// match p can get (len(p.matches) < len(one)).
func (p *pending) add(rf ref, of map[*subscription]int, one []*bound) {
	if of != nil {
		if i, ok := of[rf.s]; ok {
			p.matches[i].binds = append(p.matches[i].binds, rf.b)
			return
		}
		of[rf.s] = len(p.matches)
	} else {
		for i := range p.matches {
			if p.matches[i].s == rf.s {
				p.matches[i].binds = append(p.matches[i].binds, rf.b)
				return
			}
		}
	}
	j := len(p.matches)
	one[j] = rf.b
	p.matches = append(p.matches, match{s: rf.s, binds: one[j : j+1 : j+1]}) // cap 1: appends copy
}

// filtersMatch: every filter column must be present in the image and every condition true. An
// unchanged TOAST value counts as present when the old image has it.
func filtersMatch(conds []compiledCond, rel *relation, image, old []colVal) bool {
	for i := range conds {
		c := &conds[i]
		idx, ok := rel.colIndex[c.Column]
		if !ok || idx >= len(image) {
			return false
		}
		v := image[idx]
		if v.state == 'u' && old != nil && idx < len(old) {
			v = old[idx]
		}
		if v.state != 't' && v.state != 'n' {
			return false
		}
		if !c.eval(v) {
			return false
		}
	}
	return true
}

// deliver encodes the change once per distinct view and hands it to each visible subscriber.
func (w *worker) deliver(p *pending) {
	if len(p.matches) == 0 {
		return
	}
	encoded := map[string][]byte{}
	for _, m := range p.matches {
		if m.rls && !m.slot.visible() {
			continue
		}
		// Bindings with different column selections get separate messages (one per output row
		// of apply_rls); the usual case is one message listing all matching ids.
		for len(m.binds) > 0 {
			sel := m.binds[0].sel
			var ids []int64
			rest := m.binds[:0:0]
			for _, b := range m.binds {
				if sameSelection(b.sel, sel) {
					ids = append(ids, b.ID)
				} else {
					rest = append(rest, b)
				}
			}
			m.binds = rest
			v := viewFor(p.ch, *m.privs, sel)
			k := v.key()
			data, ok := encoded[k]
			if !ok {
				data = encodeData(p.ch, p.commit.commitTime, v, defaultMaxRecordBytes)
				encoded[k] = data
			}
			m.s.sub.PostgresChange(ids, data)
			w.metrics.delivered.Inc()
		}
	}
}

func sameSelection(a, b map[string]bool) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// loadRelation resolves column types and catalog facts for a relation.
func (w *worker) loadRelation(ctx context.Context, rel *relation) error {
	if rel.typed {
		return rel.ensureLoaded(ctx, w.pool, ChangesPublication)
	}
	var oids []uint32
	for _, c := range rel.cols {
		if _, ok := w.types.lookup(c.oid); !ok {
			oids = append(oids, c.oid)
		}
	}
	if len(oids) > 0 {
		if err := w.types.resolve(ctx, w.pool, oids); err != nil {
			return fmt.Errorf("relation %s.%s: %w", rel.schema, rel.name, err)
		}
	}
	for i := range rel.cols {
		t, ok := w.types.lookup(rel.cols[i].oid)
		if !ok {
			t = &typeInfo{oid: rel.cols[i].oid, name: fmt.Sprint(rel.cols[i].oid)}
		}
		rel.cols[i].typ = t
	}
	rel.typed = true
	return rel.ensureLoaded(ctx, w.pool, ChangesPublication)
}
