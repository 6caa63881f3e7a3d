package channeldb

import (
	"context"
	"fmt"

	"github.com/realtimeops/realtime/node/tenant"
)

// Ping checks that the tenant database answers now (tenant health, GET /api/tenants/:id/health):
// Ready only says a pool exists.
func (a *Access) Ping(ctx context.Context, t *tenant.Tenant) error {
	pool, err := a.Pools.Pool(ctx, t)
	if err != nil {
		return err
	}
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping tenant database: %w", err)
	}
	return nil
}
