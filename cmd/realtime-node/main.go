// Command realtime-node serves the Supabase Realtime protocol (WebSocket, REST broadcast) for the
// tenants of a tenants file, standalone or as a pod managed by the realtime operator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type config struct {
	addr          string
	tenantsFile   string
	tenantSource  string
	defaultTenant string
	logLevel      string
	nodeName      string
	region        string
	printDevHelp  bool
	drainWindow   time.Duration
	debugAddr     string
	cluster       clusterConfig
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.addr, "addr", envOr("ADDR", ":4000"), "listen address for HTTP and WebSocket")
	flag.StringVar(&c.tenantsFile, "tenants", envOr("TENANTS_FILE", "config/dev/tenants.yaml"), "file of Tenant (and Secret) documents")
	flag.StringVar(&c.tenantSource, "tenant-source", envOr("TENANT_SOURCE", "file"), "where tenants come from: file or kubernetes")
	flag.StringVar(&c.defaultTenant, "default-tenant", os.Getenv("DEFAULT_TENANT"), "tenant used when the Host names none (single-tenant and local setups)")
	flag.StringVar(&c.logLevel, "log-level", envOr("LOG_LEVEL", "info"), "debug, info, warn or error")
	flag.StringVar(&c.nodeName, "node-name", envOr("POD_NAME", hostname()), "node name in the cluster")
	flag.StringVar(&c.region, "region", envOr("REGION", "local"), "region of this node")
	flag.BoolVar(&c.printDevHelp, "print-dev-help", false, "print how to connect to the dev tenant")
	flag.DurationVar(&c.drainWindow, "drain-window", 10*time.Second, "spread client disconnects over this long on shutdown")
	flag.StringVar(&c.debugAddr, "debug-addr", os.Getenv("DEBUG_ADDR"), "serve pprof on this address (off when empty)")
	clusterFlags(&c.cluster)
	flag.Parse()
	return c
}

func main() {
	cfg := parseFlags()
	log := newLogger(cfg.logLevel)
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
	l, err := listen(cfg.addr, tlsFromEnv())
	if err != nil {
		return err
	}
	log.Info("realtime node listening", "addr", l.Addr().String(), "node", cfg.nodeName, "region", cfg.region)
	if cfg.printDevHelp {
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

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envMillis(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var ms int64
	if _, err := fmt.Sscan(v, &ms); err != nil || ms < 0 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "realtime"
	}
	return h
}

var errNoTenant = errors.New("dev tenant not found")
