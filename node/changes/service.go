package changes

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/tenant"
)

// Subscriber is a joined channel's end of Postgres Changes.
type Subscriber interface {
	// PostgresChange delivers one change to the channel's bindings ids. data is the encoded "data"
	// object of docs/protocol.md#change-payloads, shared by all subscribers: do not modify it. Must not block.
	PostgresChange(ids []int64, data json.RawMessage)
	// System delivers a postgres_changes system message (docs/protocol.md#system-messages), e.g. ("ok", "Subscribed to
	// PostgreSQL"). Must not block.
	System(status, message string)
}

// PoolSource gives the pool of a tenant's database (node/tenantdb's Manager implements it).
type PoolSource interface {
	Pool(ctx context.Context, t *tenant.Tenant) (*pgxpool.Pool, error)
}

// Owner says which tenants' WAL this node streams; Changes signals that the answer may differ.
type Owner interface {
	Owns(externalID string) bool
	Changes() <-chan struct{}
}

// AlwaysOwner owns every tenant (single node).
type AlwaysOwner struct{}

// Owns reports true for every tenant.
func (AlwaysOwner) Owns(string) bool { return true }

// Changes returns nil: ownership never changes.
func (AlwaysOwner) Changes() <-chan struct{} { return nil }

// Service runs the Postgres Changes streams of the tenants this node owns.
type Service struct {
	pools   PoolSource
	owner   Owner
	log     *slog.Logger
	metrics *metrics
	hooks   Hooks

	mu      sync.Mutex
	tenants map[string]*tenantState
	runCtx  context.Context
	wg      sync.WaitGroup
	wake    chan struct{}
}

// tenantState is a tenant's subscriptions and, on the owner, its running stream.
type tenantState struct {
	t      *tenant.Tenant
	reg    *registry
	worker *worker
	cancel context.CancelFunc
	done   chan struct{}
}

// NewService creates the service; reg may be nil (no metrics registered), and so may each hook.
func NewService(pools PoolSource, owner Owner, log *slog.Logger, reg prometheus.Registerer, hooks Hooks) *Service {
	if owner == nil {
		owner = AlwaysOwner{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{pools: pools, owner: owner, log: log.With("component", "changes"), hooks: hooks,
		metrics: newMetrics(reg), tenants: map[string]*tenantState{}, wake: make(chan struct{}, 1)}
}

// Run starts and stops tenant streams as ownership and interest change, until ctx ends; it then
// stops every stream and returns nil.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	s.reconcile()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for _, ts := range s.tenants {
				s.stopWorker(ts)
			}
			s.runCtx = nil
			s.mu.Unlock()
			s.wg.Wait()
			return nil
		case <-s.owner.Changes():
		case <-s.wake:
		}
		s.reconcile()
	}
}

// Watch starts the tenant's stream without a subscription (database broadcasts need it). Like a
// subscription's, the stream then runs until Forget or the loss of ownership: a release would
// have nothing to stop.
func (s *Service) Watch(t *tenant.Tenant) {
	s.tenant(t)
	s.poke()
}

func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// tenant returns the state of t, replacing the stored tenant when its database changed.
func (s *Service) tenant(t *tenant.Tenant) *tenantState {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.tenants[t.ExternalID]
	if ts == nil {
		ts = &tenantState{t: t, reg: newRegistry()}
		s.tenants[t.ExternalID] = ts
		return ts
	}
	if !reflect.DeepEqual(ts.t.Database, t.Database) {
		ts.t = t
		s.stopWorker(ts) // reconcile restarts it against the new database
	}
	return ts
}

// reconcile runs a stream for every owned tenant with a database that has ever had interest, and
// stops streams of tenants no longer owned. Streams keep running when the last subscriber leaves
// so the permanent slot keeps advancing instead of retaining WAL.
func (s *Service) reconcile() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runCtx == nil {
		return
	}
	for _, ts := range s.tenants {
		want := ts.t.Database != nil && s.owner.Owns(ts.t.ExternalID)
		switch {
		case want && ts.worker == nil:
			s.startWorker(ts)
		case !want && ts.worker != nil:
			s.stopWorker(ts)
		}
	}
}

// startWorker starts ts's stream; s.mu is held.
func (s *Service) startWorker(ts *tenantState) {
	s.metrics.ownership.WithLabelValues("acquired").Inc()
	ctx, cancel := context.WithCancel(s.runCtx)
	w := newWorker(s, ts.t, ts.reg)
	ts.worker, ts.cancel, ts.done = w, cancel, make(chan struct{})
	done := ts.done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		w.run(ctx)
		// Only now: the reader sets the series until it returns, so deleting it in stopWorker
		// left a stale lag for a tenant this node no longer streams.
		s.metrics.lag.DeleteLabelValues(w.t.ExternalID)
	}()
}

// stopWorker cancels ts's stream; s.mu is held. The goroutine ends shortly after.
func (s *Service) stopWorker(ts *tenantState) {
	if ts.worker == nil {
		return
	}
	s.metrics.ownership.WithLabelValues("released").Inc()
	ts.cancel()
	ts.worker, ts.cancel = nil, nil
}

// Forget stops a tenant's stream and drops its state (tenant deleted or disabled).
func (s *Service) Forget(externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ts := s.tenants[externalID]; ts != nil {
		s.stopWorker(ts)
		delete(s.tenants, externalID)
	}
}
