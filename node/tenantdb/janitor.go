package tenantdb

import (
	"context"
	"time"
)

// janitor keeps partitions ahead of the clock for long-lived pools (a node that runs for days
// would otherwise reach today+4 with no partition) and drops the expired ones.
func (m *Manager) janitor() {
	defer m.wg.Done()
	t := time.NewTicker(m.opts.JanitorInterval)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
			m.sweep(m.ctx)
		}
	}
}

func (m *Manager) sweep(ctx context.Context) {
	for id, pool := range m.readyPools() {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		if err := EnsurePartitions(cctx, pool); err != nil {
			m.log.Error("creating messages partitions failed", "tenant", id, "code", CodePartitionCreation, "error", err)
		}
		dropped, err := DropPartitionsBefore(cctx, pool, time.Now().Add(-m.opts.Retention))
		if err != nil {
			m.log.Error("dropping old messages partitions failed", "tenant", id,
				"code", "JanitorFailedToDeleteOldMessages", "error", err)
		} else if len(dropped) > 0 {
			m.log.Info("dropped old messages partitions", "tenant", id, "partitions", dropped)
		}
		cancel()
	}
}
