package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/changes/remote"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/channeldb"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/meshrelay"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/rtt"
	"github.com/realtimeops/realtime/node/server"
	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

// newNode is the node's composition root. It builds every part once, with its dependencies as
// constructor arguments and in dependency order, and hands them to the node's lifetimes (node.run:
// the runners, then the HTTP server until it drained, then the pools). Nothing is patched after
// construction. Parts that need each other are built together by one constructor, before anything
// runs: meshrelay.NewBroker (the broker and the cluster bus), meshrelay.NewUsers (user counts and
// their gossip), remote.New (the changes Service and the layer that gates it and subscribes
// through it). Without a cluster (mesh == nil) the node runs alone.
func newNode(cfg config, log *slog.Logger) (*node, error) {
	log, recentErrors := inspectorLog(cfg, log)
	metricsKeys, err := metricsKeySet(cfg.MetricsJWTSecret)
	if err != nil {
		return nil, err
	}
	src, err := newTenantSource(cfg, log)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	replica := presence.ReplicaID{Node: cfg.NodeName, Epoch: time.Now().UnixNano()}

	// The cluster mesh first: the broker, the user counts, presence, RTT sharing and the changes
	// layer register their message types on it.
	mesh, disc, err := newMesh(cfg, replica.Epoch, log, reg)
	if err != nil {
		return nil, err
	}
	broker, users := pubsub.NewBroker(nil), channel.NewUsers(nil)
	var counters *cluster.Counters
	if mesh != nil {
		broker = meshrelay.NewBroker(mesh, log)
		users, counters = meshrelay.NewUsers(mesh)
	}
	rates := limiter.NewTenants(tenantLimits(src.registry))
	tracker := presence.NewLocal(replica, channel.PresenceRelay(broker, log))
	var relay *meshrelay.Relay
	if mesh != nil {
		relay = meshrelay.New(meshrelay.Config{Mesh: mesh, Tracker: tracker, BroadcastPeriod: cfg.Cluster.PresencePulse,
			DownPeriod: cfg.Cluster.PresenceDown, Log: log, Registerer: reg})
	}
	metrics := channel.NewMetrics(reg)
	rt := newRTT(cfg, src, mesh, reg)
	pools := tenantdb.NewManager(log, tenantdb.Options{})
	access := &channeldb.Access{Pools: pools, Log: log}

	// Postgres Changes: who streams which tenant's WAL (the operator's assignment, or placement over
	// the mesh), the Service, and in a cluster the layer routing subscriptions to each tenant's owner.
	hooks := changes.Hooks{Sink: channeldb.BroadcastSink(broker, rates), Timing: func(t *tenant.Tenant, ins, committed time.Time) {
		metrics.ObserveDBBroadcast(t.ExternalID, ins, committed)
	}}
	owner, ownerRun := meshOwner(cfg, src, mesh, disc, rt.rttOf(), log)
	var (
		cdc       *changes.Service
		layer     *remote.Layer // nil alone
		dbChanges channeldb.Changes
		flush     server.FlushFunc
	)
	if mesh == nil {
		cdc = changes.NewService(pools, owner, log, reg, hooks)
		dbChanges, flush = channeldb.Changes{Service: cdc}, aloneFlush(cdc)
	} else {
		layer = remote.New(remote.Config{Mesh: mesh, Tenants: src.registry.Get, Log: log}, func(gate changes.StreamGate, barrier changes.Barrier) *changes.Service {
			h := hooks
			h.Gate, h.Barrier = gate, barrier
			return changes.NewService(pools, owner, log, reg, h)
		})
		cdc = layer.Service()
		dbChanges, flush = channeldb.Changes{Service: cdc, Router: layer}, layer.Flush
	}
	if src.bind != nil {
		src.bind(cdc) // the Kubernetes source keeps a tenant's Lease while its stream runs
	}
	watchDatabases(src.registry, cdc, pools)

	deps := &channel.Deps{
		Tenants: src.registry, Broker: broker, Presence: tracker, Rates: rates, Users: users, Metrics: metrics, Log: log,
		Database: access, Authorizer: access, Replayer: access, Changes: dbChanges,
	}
	srv := server.New(deps, server.Options{
		MetricsKeys:    metricsKeys,
		DefaultTenant:  cfg.DefaultTenant,
		ConnectBackoff: cfg.ConnectErrorBackoff,
		DrainWindow:    cfg.DrainWindow,
		Flush:          flush,
		Gatherer:       reg,
		Log:            log,
		Status:         statusFunc(cdc, mesh, relay, rt.prober),
		Inspector:      inspectorOptions(cfg, log, recentErrors),
		Socket: socket.Options{
			MaxFrameBytes: 5_000_000, IdleTimeout: 60 * time.Second, QueueFrames: 4096, QueueBytes: 16 << 20,
			WriteTimeout: 10 * time.Second, ErrorBackoff: cfg.ChannelErrorBackoff, Metrics: socket.NewMetrics(reg), Log: log,
		},
	})

	n := &node{log: log, tenants: src.registry, admin: srv.AdminHandler(), serve: srv.Serve, closers: []func(){pools.Close}}
	n.runners = append(n.runners, src.runners...)
	if cfg.DebugAddr != "" {
		n.runners = append(n.runners, debugServer(cfg.DebugAddr))
	}
	if mesh != nil {
		n.runners = append(n.runners, disc.Run, mesh.Run, counters.Run, relay.Run)
		if ownerRun != nil {
			n.runners = append(n.runners, ownerRun)
		}
		n.runners = append(n.runners, layer.Run)
	}
	n.runners = append(n.runners, rt.prober.Run, cdc.Run, func(ctx context.Context) error {
		rates.Run(ctx, limiter.TickSeconds*time.Second)
		return nil
	})
	return n, nil
}

// aloneFlush is a node alone's drain flush: only its own stream can owe changes.
func aloneFlush(cdc *changes.Service) server.FlushFunc {
	return func(ctx context.Context, id string) error {
		if err := cdc.Flush(ctx, id); err != nil && !errors.Is(err, changes.ErrNotStreaming) {
			return err
		}
		return nil // alone, a tenant not streamed here has no changes to wait for
	}
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

func statusFunc(cdc *changes.Service, mesh *cluster.Mesh, relay *meshrelay.Relay, prober *rtt.Prober) func() map[string]any {
	return func() map[string]any {
		out := map[string]any{"replication": cdc.Status(), "databaseRTT": prober.Figures()}
		if mesh != nil {
			out["peers"] = mesh.Peers()
			out["presenceReplicas"] = relay.Status()
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
