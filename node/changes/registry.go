package changes

import (
	"sync"
	"sync/atomic"

	"github.com/jackc/pglogrepl"
)

// subscription is one channel's set of bindings on one tenant.
type subscription struct {
	id     uint64
	sub    Subscriber
	role   string
	claims string // canonical JSON: identical claims share RLS verdicts
	group  string // role + claims
	binds  []*bound
}

// bound is a binding validated against the database: filters compiled for its table.
type bound struct {
	Binding
	conds []compiledCond
	sel   map[string]bool // nil = all columns
	// tables is what a name with LIKE wildcards resolved to when the channel subscribed
	// (namematch.go); nil when Schema and Table are plain names or "*".
	tables []pubTable
}

type ref struct {
	s *subscription
	b *bound
}

// subIndex finds the bindings that may match a relation; rebuilt on every (un)subscribe and read
// lock-free by the processor.
type subIndex struct {
	exact     map[string][]ref // schema \x00 table
	anyTable  map[string][]ref // schema, table "*"
	anySchema map[string][]ref // table, schema "*"
	all       []ref
	count     int
}

func (x *subIndex) lookup(schema, table string, out []ref) []ref {
	out = append(out, x.exact[schema+"\x00"+table]...)
	out = append(out, x.anyTable[schema]...)
	out = append(out, x.anySchema[table]...)
	return append(out, x.all...)
}

// registry holds a tenant's subscriptions and readiness waiters.
type registry struct {
	mu     sync.Mutex
	subs   map[uint64]*subscription
	nextID uint64
	idx    atomic.Pointer[subIndex]
	ready  *readiness
}

func newRegistry() *registry {
	r := &registry{subs: map[uint64]*subscription{}, ready: &readiness{waiters: map[string]*waiter{}}}
	r.idx.Store(&subIndex{})
	return r
}

func (r *registry) add(s *subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextID++
	s.id = r.nextID
	r.subs[s.id] = s
	r.rebuild()
}

func (r *registry) remove(s *subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.subs[s.id]; ok {
		delete(r.subs, s.id)
		r.rebuild()
	}
}

func (r *registry) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subs)
}

// rebuild publishes a fresh index; r.mu is held.
func (r *registry) rebuild() {
	x := &subIndex{exact: map[string][]ref{}, anyTable: map[string][]ref{}, anySchema: map[string][]ref{}, count: len(r.subs)}
	for _, s := range r.subs {
		for _, b := range s.binds {
			rf := ref{s: s, b: b}
			switch {
			case b.tables != nil:
				for _, pt := range b.tables {
					k := pt.schema + "\x00" + pt.table
					x.exact[k] = append(x.exact[k], rf)
				}
			case b.Schema == "*" && b.Table == "*":
				x.all = append(x.all, rf)
			case b.Table == "*":
				x.anyTable[b.Schema] = append(x.anyTable[b.Schema], rf)
			case b.Schema == "*":
				x.anySchema[b.Table] = append(x.anySchema[b.Table], rf)
			default:
				k := b.Schema + "\x00" + b.Table
				x.exact[k] = append(x.exact[k], rf)
			}
		}
	}
	r.idx.Store(x)
}

// systemAll sends a postgres_changes system message to every subscriber of the tenant.
func (r *registry) systemAll(status, msg string) {
	r.mu.Lock()
	subs := make([]*subscription, 0, len(r.subs))
	for _, s := range r.subs {
		subs = append(subs, s)
	}
	r.mu.Unlock()
	for _, s := range subs {
		s.sub.System(status, msg)
	}
}

// readiness tracks subscriptions waiting for the stream to pass their subscribe point.
type readiness struct {
	mu      sync.Mutex
	waiters map[string]*waiter
	n       atomic.Int32
}

type waiter struct {
	lsn pglogrepl.LSN
	fn  func()
}

func (r *readiness) add(token string, lsn pglogrepl.LSN, fn func()) {
	r.mu.Lock()
	r.waiters[token] = &waiter{lsn: lsn, fn: fn}
	r.n.Store(int32(len(r.waiters)))
	r.mu.Unlock()
}

// setLSN gives a waiter its position. A waiter that already fired (the stream saw its token before
// the caller learnt the position) stays gone, so it cannot fire twice.
func (r *readiness) setLSN(token string, lsn pglogrepl.LSN) {
	r.mu.Lock()
	if w := r.waiters[token]; w != nil {
		w.lsn = lsn
	}
	r.mu.Unlock()
}

func (r *readiness) remove(token string) {
	r.mu.Lock()
	delete(r.waiters, token)
	r.n.Store(int32(len(r.waiters)))
	r.mu.Unlock()
}

func (r *readiness) pending() bool { return r.n.Load() > 0 }

// advance fires the waiters whose token was seen or whose position the stream has passed.
func (r *readiness) advance(pos pglogrepl.LSN, token string) {
	r.mu.Lock()
	var fire []func()
	for k, w := range r.waiters {
		if k == token || (pos > 0 && w.lsn <= pos) {
			fire = append(fire, w.fn)
			delete(r.waiters, k)
		}
	}
	r.n.Store(int32(len(r.waiters)))
	r.mu.Unlock()
	for _, f := range fire {
		f()
	}
}
