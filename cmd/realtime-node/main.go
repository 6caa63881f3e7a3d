// Command realtime-node serves the Supabase Realtime protocol (WebSocket, REST broadcast) for the
// tenants of a tenants file, standalone or as a pod managed by the realtime operator.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/realtimeops/realtime/node/nodeconfig"
	"github.com/realtimeops/realtime/node/presence"
)

// config is the node's configuration: the contract shared with the operator (node/nodeconfig).
type config = nodeconfig.Config

func parseFlags() (config, error) {
	return nodeconfig.Load(os.Args[1:], os.Getenv, presence.DefaultBroadcastPeriod)
}

func main() {
	cfg, err := parseFlags()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	log := newLogger(cfg.LogLevel)
	if err != nil {
		log.Error("realtime-node configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("realtime-node failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	n, err := newNode(cfg, log)
	if err != nil {
		return err
	}
	l, err := listen(cfg.Addr, cfg.TLS)
	if err != nil {
		return err
	}
	if cfg.AdminAddr != "" {
		al, err := listen(cfg.AdminAddr, cfg.TLS)
		if err != nil {
			l.Close()
			return err
		}
		n.runners = append(n.runners, adminServer(al, n.admin, log))
		log.Info("admin endpoints (/metrics, /status) listening", "addr", al.Addr().String())
	}
	log.Info("realtime node listening", "addr", l.Addr().String(), "node", cfg.NodeName, "region", cfg.Region)
	if cfg.PrintDevHelp {
		printDevHelp(n, cfg, l.Addr())
	}
	return n.run(ctx, l)
}

func newLogger(level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
}

var errNoTenant = errors.New("dev tenant not found")
