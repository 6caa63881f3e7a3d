package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/dbaccess"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/server"
	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

// node wires the node's services together; each long-running part is owned by run's errgroup.
type node struct {
	log     *slog.Logger
	tenants *tenant.FileSource
	rates   *limiter.Tenants
	server  *server.Server
	pools   *tenantdb.Manager
	runners []func(context.Context) error
}

func newNode(cfg config, log *slog.Logger) (*node, error) {
	tenants, err := tenant.NewFileSource(cfg.tenantsFile, log)
	if err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	broker := pubsub.NewBroker()
	rates := limiter.NewTenants(func(id string) (int, int, int) {
		t, ok := tenants.Get(id)
		if !ok {
			return 0, 0, 0
		}
		l := t.Limits.Defaulted()
		return l.MaxEventsPerSecond, l.MaxJoinsPerSecond, l.MaxPresenceEventsPerSecond
	})
	tracker := presence.NewLocal(presence.ReplicaID{Node: cfg.nodeName, Epoch: time.Now().UnixNano()}, channel.PresenceRelay(broker, log))
	deps := &channel.Deps{
		Tenants: tenants, Broker: broker, Presence: tracker, Rates: rates, Users: channel.NewUsers(),
		Metrics: channel.NewMetrics(reg), Log: log, ErrorBackoff: envMillis("CHANNEL_ERROR_BACKOFF_MS", 5*time.Second),
	}
	pools := tenantdb.NewManager(log, tenantdb.Options{})
	access := &dbaccess.Access{Pools: pools}
	deps.Database, deps.Authorizer, deps.Replayer = access, access, access
	tenants.Subscribe(func(e tenant.Event) {
		if e.Old != nil {
			pools.Forget(e.Old.ExternalID) // a changed or deleted tenant reconnects with its new settings
		}
	})
	srv := server.New(deps, server.Options{
		DefaultTenant:  cfg.defaultTenant,
		ConnectBackoff: envMillis("CONNECT_ERROR_BACKOFF_MS", 2*time.Second),
		DrainWindow:    cfg.drainWindow,
		Gatherer:       reg,
		Log:            log,
		Socket: socket.Options{
			MaxFrameBytes: 5_000_000, IdleTimeout: 60 * time.Second, QueueFrames: 4096, QueueBytes: 16 << 20,
			WriteTimeout: 10 * time.Second, ErrorBackoff: deps.ErrorBackoff, Metrics: socket.NewMetrics(reg), Log: log,
		},
	})
	n := &node{log: log, tenants: tenants, rates: rates, server: srv, pools: pools}
	n.runners = append(n.runners, tenants.Run, func(ctx context.Context) error {
		rates.Run(ctx, limiter.TickSeconds*time.Second)
		return nil
	})
	return n, nil
}

func (n *node) run(ctx context.Context, l net.Listener) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, r := range n.runners {
		g.Go(func() error { return r(ctx) })
	}
	g.Go(func() error { return n.server.Serve(ctx, l) })
	err := g.Wait()
	n.pools.Close()
	return err
}
