package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/realtimeops/realtime/node/tenant"
)

// runner is a long-running part of the node, owned by run's errgroup and stopped by its context.
type runner func(context.Context) error

// node is the built node (newNode): what run starts, serves with and stops, in that order.
type node struct {
	log     *slog.Logger
	tenants tenant.Registry // --print-dev-help looks up the default tenant
	admin   http.Handler    // /metrics, /status and the probes, for --admin-addr
	// runners start first and stop after serve returned: the tenant source, the mesh and its
	// layers, the changes streams, the RTT prober, the rate limiter (and --admin-addr's server).
	runners []runner
	// serve is the HTTP server (server.Server.Serve): it serves until its context ends, then
	// drains (docs/protocol.md#health-endpoints: readiness off, sockets flushed and closed).
	serve func(context.Context, net.Listener) error
	// closers run after every runner returned: the tenant database pools.
	closers []func()
}

// run serves until ctx ends. The runners (changes streams, mesh, cluster layers, tenant source)
// outlive the HTTP server's drain: sockets still open during the drain window must keep
// receiving changes until they are closed, and a WAL owner keeps its Lease (and its stream)
// until then. Stopping them with ctx lost every change committed during the drain for the
// clients still connected (found by the real-cluster drain and rolling-update drills). A runner
// that fails stops the server, and so the node. The closers (pools) run last: the streams use them.
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
	serveErr := n.serve(sctx, l)
	stopRunners()
	err := g.Wait()
	for _, c := range n.closers {
		c()
	}
	if err == nil {
		err = serveErr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}
