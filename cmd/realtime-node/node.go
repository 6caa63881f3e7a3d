package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/channeldb"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/rtt"
	"github.com/realtimeops/realtime/node/server"
	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

// runner is a long-running part of the node, owned by run's errgroup and stopped by its context.
type runner func(context.Context) error

// node wires the node's services together.
type node struct {
	log     *slog.Logger
	tenants tenant.Registry
	server  *server.Server
	pools   *tenantdb.Manager
	runners []runner
}

func newNode(cfg config, log *slog.Logger) (*node, error) {
	log, recentErrors := inspectorLog(cfg, log)
	src, err := newTenantSource(cfg, log)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	broker := pubsub.NewBroker()
	rates := limiter.NewTenants(tenantLimits(src.registry))
	tracker := presence.NewLocal(presence.ReplicaID{Node: cfg.NodeName, Epoch: time.Now().UnixNano()}, channel.PresenceRelay(broker, log))
	deps := &channel.Deps{
		Tenants: src.registry, Broker: broker, Presence: tracker, Rates: rates, Users: channel.NewUsers(),
		Metrics: channel.NewMetrics(reg), Log: log,
	}
	cl, err := newCluster(cfg, log, reg, broker, tracker, deps.Users)
	if err != nil {
		return nil, err
	}
	pools := tenantdb.NewManager(log, tenantdb.Options{})
	access := &channeldb.Access{Pools: pools}
	deps.Database, deps.Authorizer, deps.Replayer = access, access, access
	rt := newRTT(cfg, src, cl, reg)
	owner := src.owner
	if cl != nil {
		owner = cl.changesOwner(src, cfg.RegionMapping, rt.rttOf(), cfg.RTT.MarginMs, log)
	}
	newChanges := func(gate changes.StreamGate, barrier changes.Barrier) *changes.Service {
		return changes.NewService(pools, owner, log, reg, changes.Hooks{
			Gate: gate, Barrier: barrier,
			Sink: channeldb.BroadcastSink(broker, rates),
			Timing: func(t *tenant.Tenant, ins, committed time.Time) {
				deps.Metrics.ObserveDBBroadcast(t.ExternalID, ins, committed)
			},
		})
	}
	var cdc *changes.Service
	var flush server.FlushFunc
	if cl != nil {
		layer := cl.routeChanges(newChanges, src.registry, log)
		cdc = layer.Service()
		deps.Changes = channeldb.Changes{Service: cdc, Router: layer}
		flush = layer.Flush
	} else {
		cdc = newChanges(nil, nil)
		deps.Changes = channeldb.Changes{Service: cdc}
		flush = func(ctx context.Context, id string) error {
			if err := cdc.Flush(ctx, id); err != nil && !errors.Is(err, changes.ErrNotStreaming) {
				return err
			}
			return nil // alone, a tenant not streamed here has no changes to wait for
		}
	}
	if src.bind != nil {
		src.bind(cdc)
	}
	watchDatabases(src.registry, cdc, pools)

	metricsKeys, err := metricsKeySet(cfg.MetricsJWTSecret)
	if err != nil {
		return nil, err
	}
	srv := server.New(deps, server.Options{
		MetricsKeys:    metricsKeys,
		DefaultTenant:  cfg.DefaultTenant,
		ConnectBackoff: cfg.ConnectErrorBackoff,
		DrainWindow:    cfg.DrainWindow,
		Flush:          flush,
		Gatherer:       reg,
		Log:            log,
		Status:         statusFunc(cdc, cl, rt.prober),
		Inspector:      inspectorOptions(cfg, log, recentErrors),
		Socket: socket.Options{
			MaxFrameBytes: 5_000_000, IdleTimeout: 60 * time.Second, QueueFrames: 4096, QueueBytes: 16 << 20,
			WriteTimeout: 10 * time.Second, ErrorBackoff: cfg.ChannelErrorBackoff, Metrics: socket.NewMetrics(reg), Log: log,
		},
	})
	n := &node{log: log, tenants: src.registry, server: srv, pools: pools}
	n.runners = append(n.runners, src.runners...)
	if cfg.DebugAddr != "" {
		n.runners = append(n.runners, debugServer(cfg.DebugAddr))
	}
	if cl != nil {
		n.runners = append(n.runners, cl.disc.Run, cl.mesh.Run, cl.counters.Run, cl.wiring.Run)
		n.runners = append(n.runners, cl.changes...)
	}
	n.runners = append(n.runners, rt.prober.Run, cdc.Run, func(ctx context.Context) error {
		rates.Run(ctx, limiter.TickSeconds*time.Second)
		return nil
	})
	return n, nil
}

// metricsKeySet protects /metrics with METRICS_JWT_SECRET when it is set (docs/protocol.md#health-endpoints); without it the
// endpoint is open, as Prometheus scraping inside a cluster usually expects.
func metricsKeySet(secret string) (*auth.KeySet, error) {
	if secret == "" {
		return nil, nil
	}
	keys, err := auth.NewKeySet([]byte(secret), nil)
	if err != nil {
		return nil, fmt.Errorf("METRICS_JWT_SECRET: %w", err)
	}
	return keys, nil
}

func statusFunc(cdc *changes.Service, cl *clusterParts, prober *rtt.Prober) func() map[string]any {
	return func() map[string]any {
		out := map[string]any{"replication": cdc.Status(), "databaseRTT": prober.Figures()}
		if cl != nil {
			out["peers"] = cl.mesh.Peers()
			out["presenceReplicas"] = cl.wiring.Status()
		}
		return out
	}
}

func tenantLimits(reg tenant.Registry) limiter.Limits {
	return func(id string) (int, int, int) {
		t, ok := reg.Get(id)
		if !ok {
			return 0, 0, 0
		}
		l := t.Limits.Defaulted()
		return l.MaxEventsPerSecond, l.MaxJoinsPerSecond, l.MaxPresenceEventsPerSecond
	}
}

// watchDatabases keeps a replication stream for every tenant with a database, so database
// broadcasts (realtime.send) flow before anyone subscribes to Postgres Changes, and drops pools
// and streams of tenants that change or go away.
func watchDatabases(reg tenant.Registry, cdc *changes.Service, pools *tenantdb.Manager) {
	watch := func(t *tenant.Tenant) {
		if t != nil && t.Database != nil && !t.Suspend {
			cdc.Watch(t)
		}
	}
	if all, ok := reg.(interface{ All() []*tenant.Tenant }); ok {
		for _, t := range all.All() {
			watch(t)
		}
	}
	reg.Subscribe(func(e tenant.Event) {
		if e.Old != nil {
			if e.New == nil || e.New.Database == nil {
				cdc.Forget(e.Old.ExternalID)
			}
			pools.Forget(e.Old.ExternalID)
		}
		watch(e.New)
	})
}

// run serves until ctx ends. The runners (changes streams, mesh, cluster layers, tenant source)
// outlive the HTTP server's drain: sockets still open during the drain window must keep
// receiving changes until they are closed, and a WAL owner keeps its Lease (and its stream)
// until then. Stopping them with ctx lost every change committed during the drain for the
// clients still connected (found by the real-cluster drain and rolling-update drills).
func (n *node) run(ctx context.Context, l net.Listener) error {
	rctx, stopRunners := context.WithCancel(context.Background())
	defer stopRunners()
	g, gctx := errgroup.WithContext(rctx)
	for _, r := range n.runners {
		g.Go(func() error { return r(gctx) })
	}
	sctx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	stop := context.AfterFunc(gctx, stopServer) // a failed runner stops the node
	defer stop()
	serveErr := n.server.Serve(sctx, l)
	stopRunners()
	err := g.Wait()
	n.pools.Close()
	if err == nil {
		err = serveErr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}
