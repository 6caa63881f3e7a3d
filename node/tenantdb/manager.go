package tenantdb

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/node/tenant"
)

// Options tune the Manager; zero values take the defaults in brackets.
type Options struct {
	// MaxConns is the pool size per tenant [4] (spec db_pool).
	MaxConns int32
	// ReservedConns are the other connections the node may open to the tenant (replication,
	// subscriptions, probes...) [6]; the probe refuses to connect when fewer than
	// ceil(0.95*(MaxConns+ReservedConns)) connections are free (DatabaseLackOfConnections).
	ReservedConns int
	// ConnectTimeout bounds one TCP+auth handshake [5s].
	ConnectTimeout time.Duration
	// AttemptTimeout bounds one whole attempt: probe, pool, migrations, partitions [30s].
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed attempt before the next one [1s, 30s];
	// calls inside that window get the last failure without touching the database.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttemptsPerSecond caps connect attempts per tenant, across Forget [3]; beyond it
	// callers get DatabaseConnectionRateLimitReached.
	MaxAttemptsPerSecond int
	// JanitorInterval is how often partitions are created ahead and old ones dropped [4h];
	// negative disables the janitor.
	JanitorInterval time.Duration
	// Retention is the age after which a day's partition is dropped [72h].
	Retention time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	if o.ReservedConns <= 0 {
		o.ReservedConns = 6
	}
	if o.MaxAttemptsPerSecond <= 0 {
		o.MaxAttemptsPerSecond = 3
	}
	def(&o.ConnectTimeout, 5*time.Second)
	def(&o.AttemptTimeout, 30*time.Second)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, 30*time.Second)
	def(&o.JanitorInterval, 4*time.Hour)
	def(&o.Retention, 72*time.Hour)
	return o
}

// Manager owns one pgx pool per tenant database.
type Manager struct {
	log  *slog.Logger
	opts Options

	ctx    context.Context // cancelled by Close; parent of every attempt and of the janitor
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	entries  map[string]*entry
	attempts map[string][]time.Time // recent attempt starts per tenant (rate limit)
}

// entry is the connection state of one tenant.
type entry struct {
	db       tenant.Database
	pool     *pgxpool.Pool
	inflight chan struct{} // non-nil while an attempt runs; closed when it ends
	err      *Error        // last failure, returned until retryAt
	failures int
	retryAt  time.Time
	dead     bool // forgotten or replaced: a finishing attempt closes its pool
}

// NewManager returns a Manager; call Close to release every pool and stop the janitor.
func NewManager(log *slog.Logger, opts Options) *Manager {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		log: log.With("component", "tenantdb"), opts: opts.withDefaults(),
		ctx: ctx, cancel: cancel,
		entries: map[string]*entry{}, attempts: map[string][]time.Time{},
	}
	if m.opts.JanitorInterval > 0 {
		m.wg.Add(1)
		go m.janitor()
	}
	return m
}

// Pool returns the tenant's ready pool, connecting on first use (docs/protocol.md#tenant-database): probe free
// connections, open the pool, run pending migrations, create partitions. Concurrent callers share
// one attempt; after a failure the next attempt waits for a growing backoff. Errors are *Error;
// a ctx that ends while the attempt is still running gives InitializingProjectConnection (callers
// bound their wait, 15 s upstream).
func (m *Manager) Pool(ctx context.Context, t *tenant.Tenant) (*pgxpool.Pool, error) {
	if t.Suspend {
		return nil, newError(CodeDisabledForTenant, msgDisabledForTenant, nil)
	}
	if t.Database == nil {
		return nil, newError(CodeNoDatabase, msgNoDatabase, nil)
	}
	for {
		pool, wait, err := m.poolOrStart(t.ExternalID, *t.Database)
		if pool != nil || err != nil {
			return pool, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, newError(CodeInitializing, msgInitializing, ctx.Err())
		}
	}
}

// PoolSize is the number of connections each tenant's pool may hold.
func (m *Manager) PoolSize() int { return int(m.opts.MaxConns) }

// Lookup returns the tenant's pool if it is already connected, without connecting.
func (m *Manager) Lookup(externalID string) (*pgxpool.Pool, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[externalID]
	if e == nil || e.pool == nil {
		return nil, false
	}
	return e.pool, true
}

// poolOrStart returns the ready pool, or the last error inside its backoff window, or a channel
// that closes when the (possibly just started) attempt ends.
func (m *Manager) poolOrStart(id string, db tenant.Database) (*pgxpool.Pool, <-chan struct{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx.Err() != nil {
		return nil, nil, newError(CodeUnableToConnect, msgUnableToConnect, m.ctx.Err())
	}
	e := m.entries[id]
	if e != nil && e.db != db { // the tenant's database changed: start over
		m.dropLocked(id, e)
		e = nil
	}
	if e == nil {
		e = &entry{db: db}
		m.entries[id] = e
	}
	switch {
	case e.pool != nil:
		return e.pool, nil, nil
	case e.inflight != nil:
		return nil, e.inflight, nil
	case e.err != nil && time.Now().Before(e.retryAt):
		return nil, nil, e.err
	}
	if !m.allowAttemptLocked(id) {
		return nil, nil, newError(CodeConnectRateLimit, msgConnectRateLimit, nil)
	}
	e.inflight = make(chan struct{})
	m.wg.Add(1)
	go m.attempt(id, e)
	return nil, e.inflight, nil
}

// allowAttemptLocked applies the per-tenant attempts-per-second cap.
func (m *Manager) allowAttemptLocked(id string) bool {
	now := time.Now()
	recent := m.attempts[id][:0]
	for _, at := range m.attempts[id] {
		if now.Sub(at) < time.Second {
			recent = append(recent, at)
		}
	}
	if len(recent) >= m.opts.MaxAttemptsPerSecond {
		m.attempts[id] = recent
		return false
	}
	m.attempts[id] = append(recent, now)
	return true
}

// attempt connects in the Manager's context, not a caller's: a caller giving up must not abort
// the attempt the others wait for.
func (m *Manager) attempt(id string, e *entry) {
	defer m.wg.Done()
	ctx, cancel := context.WithTimeout(m.ctx, m.opts.AttemptTimeout)
	defer cancel()
	pool, err := m.connect(ctx, id, &e.db)

	m.mu.Lock()
	defer m.mu.Unlock()
	defer func() { close(e.inflight); e.inflight = nil }()
	if e.dead || m.ctx.Err() != nil {
		if pool != nil {
			pool.Close()
		}
		return
	}
	if err != nil {
		e.failures++
		e.err = err
		e.retryAt = time.Now().Add(m.backoff(e.failures))
		m.log.Warn("tenant database connection failed", "tenant", id, "code", err.Code,
			"error", err.Err, "failures", e.failures, "retry_in", time.Until(e.retryAt).Round(time.Millisecond))
		return
	}
	e.pool, e.err, e.failures = pool, nil, 0
	m.log.Info("tenant database connected", "tenant", id, "host", e.db.Host, "database", e.db.Name)
}

// backoff is randomized exponential: MinBackoff*2^(n-1), capped, minus up to 25% jitter so nodes
// retrying the same database spread out.
func (m *Manager) backoff(failures int) time.Duration {
	d := m.opts.MinBackoff
	for i := 1; i < failures && d < m.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, m.opts.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// Forget closes the tenant's pool (tenant changed or deleted); the next Pool call reconnects.
func (m *Manager) Forget(externalID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[externalID]; e != nil {
		m.dropLocked(externalID, e)
	}
}

func (m *Manager) dropLocked(id string, e *entry) {
	e.dead = true
	delete(m.entries, id)
	if e.pool != nil {
		// Close waits for checked-out connections; do not hold the Manager's lock meanwhile.
		p := e.pool
		e.pool = nil
		m.wg.Add(1)
		go func() { defer m.wg.Done(); p.Close() }()
	}
}

// Close closes every pool, stops the janitor and waits for running attempts to end.
func (m *Manager) Close() {
	m.cancel()
	m.mu.Lock()
	for id, e := range m.entries {
		m.dropLocked(id, e)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// readyPools snapshots the connected pools (janitor).
func (m *Manager) readyPools() map[string]*pgxpool.Pool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]*pgxpool.Pool, len(m.entries))
	for id, e := range m.entries {
		if e.pool != nil {
			out[id] = e.pool
		}
	}
	return out
}
