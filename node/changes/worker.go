package changes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/node/slotname"
	"github.com/realtimeops/realtime/node/tenant"
)

// worker streams one tenant's slot on the owner node; exactly one runs per tenant.
type worker struct {
	s       *Service
	t       *tenant.Tenant
	reg     *registry
	slot    string
	log     *slog.Logger
	metrics *metrics
	types   *typeCache
	ready   *readiness

	pool *pgxpool.Pool // set per connection attempt; used by the processor only

	processed  atomicLSN // end of the last transaction fully handed to subscribers
	confirmed  atomicLSN // flush position last reported to Postgres
	serverEnd  atomicLSN
	highWater  pglogrepl.LSN // processor only: duplicates are transactions at or below it
	streaming  bool
	lastErr    string
	mu         sync.Mutex // guards streaming, lastErr
	inUseTries int
	bypass     map[string]cachedBool
	matchOf    map[*subscription]int // processor only: scratch index of one change's matches
	hits       []ref                 // processor only: scratch list of one change's matching refs
}

func newWorker(s *Service, t *tenant.Tenant, reg *registry) *worker {
	return &worker{s: s, t: t, reg: reg, slot: slotname.ForTenant(t.ExternalID),
		log:     s.log.With("tenant", t.ExternalID, "slot", slotname.ForTenant(t.ExternalID)),
		metrics: s.metrics, types: newTypeCache(), ready: reg.ready}
}

// run streams until ctx ends, reconnecting with jittered exponential backoff (200 ms … 10 s).
func (w *worker) run(ctx context.Context) {
	if gate := w.s.hooks.Gate; gate != nil {
		release, err := gate(ctx, w.t)
		if err != nil {
			return
		}
		defer release()
	}
	backoff := 200 * time.Millisecond
	for {
		started := time.Now()
		err := w.streamOnce(ctx)
		w.setStreaming(false)
		if ctx.Err() != nil {
			return
		}
		w.metrics.restarts.Inc()
		w.reportError(err)
		if time.Since(started) > 30*time.Second {
			backoff = 200 * time.Millisecond
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// reportError logs a stream failure and tells the tenant's subscribers when it is one they can act
// on (database unreachable, wal_level); repeated identical errors are reported once.
func (w *worker) reportError(err error) {
	msg := err.Error()
	w.mu.Lock()
	changed := msg != w.lastErr
	w.lastErr = msg
	w.mu.Unlock()
	w.log.Error("postgres changes stream failed", "err", err)
	if !changed {
		return
	}
	switch {
	case errors.Is(err, ErrWalLevel):
		w.reg.systemAll("error", "Unable to stream changes: "+msg)
	case isConnectError(err):
		w.reg.systemAll("error", "Realtime was unable to connect to the project database")
	}
}

func (w *worker) setStreaming(v bool) {
	w.mu.Lock()
	w.streaming = v
	if v {
		w.lastErr = ""
	}
	w.mu.Unlock()
}

func (w *worker) streamOnce(ctx context.Context) error {
	pool, err := w.s.pools.Pool(ctx, w.t)
	if err != nil {
		return fmt.Errorf("tenant pool: %w", err)
	}
	w.pool = pool
	if err := checkWalLevel(ctx, pool); err != nil {
		return err
	}
	if err := ensurePublications(ctx, pool); err != nil {
		return err
	}
	conn, err := startStream(ctx, w)
	if isSlotInUse(err) {
		// A stale walsender of an earlier owner (or of our own dead connection) still holds the
		// slot; after a few tries it is terminated, as the Elixir poller does.
		if w.inUseTries++; w.inUseTries > 3 {
			_ = terminateSlotHolder(ctx, pool, w.slot)
			w.inUseTries = 0
		}
	}
	if err != nil {
		return err
	}
	w.inUseTries = 0
	defer conn.Close(context.Background())
	w.setStreaming(true)
	w.log.Info("postgres changes stream started")

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan item, 256)
	procErr := make(chan error, 1)
	go func() { procErr <- w.process(sctx, items); cancel() }()
	rd := &reader{w: w, conn: conn, out: items, rels: map[uint32]*relation{}}
	err = rd.run(sctx)
	cancel()
	if perr := <-procErr; perr != nil && !errors.Is(perr, context.Canceled) {
		return perr
	}
	return err
}

// advanceIdle records an idle confirmation beyond the last transaction.
func (w *worker) advanceIdle(lsn pglogrepl.LSN) {
	for {
		cur := w.processed.Load()
		if uint64(lsn) <= cur || w.processed.CompareAndSwap(cur, uint64(lsn)) {
			return
		}
	}
}

func isConnectError(err error) bool {
	var ce interface{ SafeToRetry() bool }
	return errors.As(err, &ce) || errors.Is(err, context.DeadlineExceeded)
}
