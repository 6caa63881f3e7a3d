package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/realtimeops/realtime/node/socket"
)

const (
	// drainGroups is how many groups a drain closes its sockets in. Each group first waits for a
	// flush of its tenants, so a handful of groups bounds the flushes per tenant while the closes
	// (and the clients' reconnects) stay spread over the window.
	drainGroups = 10
	// drainFlushTimeout bounds one group's wait for its flushes.
	drainFlushTimeout = 3 * time.Second
)

// FlushFunc returns once every Postgres change of the tenant committed before the call reached
// this node's channels (remote.Layer.Flush, changes.Service.Flush), or ctx ends.
type FlushFunc func(ctx context.Context, tenantID string) error

type tenantSocket struct {
	tenant string
	s      *socket.Socket
}

func (h *hub) allWithTenant() []tenantSocket {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []tenantSocket
	for t, set := range h.sockets {
		for s := range set {
			out = append(out, tenantSocket{t, s})
		}
	}
	return out
}

// drain closes every socket with 1012 in up to drainGroups groups spread over window. Before a
// group closes, flush (when set) waits, bounded, until the changes its tenants committed so far
// reached their channels, and each close lets the queued frames out first: a drain does not cut
// off a change committed while the client was subscribed (only a flush that times out can).
func (h *hub) drain(window time.Duration, flush FlushFunc, log *slog.Logger) {
	socks := h.allWithTenant()
	if len(socks) == 0 {
		return
	}
	n := min(len(socks), drainGroups)
	start := time.Now()
	failed := map[string]bool{} // not flushed again: an unreachable database must not stretch the drain
	for i := range n {
		group := socks[i*len(socks)/n : (i+1)*len(socks)/n]
		if flush != nil {
			flushGroup(group, flush, failed, log)
		}
		for _, ts := range group {
			ts.s.Close(websocket.StatusServiceRestart, "server restarting")
		}
		if wait := time.Until(start.Add(window * time.Duration(i+1) / time.Duration(n))); i < n-1 && wait > 0 {
			time.Sleep(wait)
		}
	}
	log.Info("drain closed sockets", "sockets", len(socks), "groups", n, "tenants_not_flushed", len(failed),
		"took", time.Since(start).Round(time.Millisecond))
}

// flushGroup flushes the group's tenants concurrently, except those in failed, and adds the ones
// whose flush did not complete to failed.
func flushGroup(group []tenantSocket, flush FlushFunc, failed map[string]bool, log *slog.Logger) {
	tenants := map[string]bool{}
	for _, ts := range group {
		if !failed[ts.tenant] {
			tenants[ts.tenant] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainFlushTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for t := range tenants {
		wg.Go(func() {
			if err := flush(ctx, t); err != nil {
				log.Warn("drain: closing sockets before their changes were flushed", "tenant", t, "err", err)
				mu.Lock()
				failed[t] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
