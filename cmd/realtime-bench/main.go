// Command realtime-bench is a load generator for realtime-node. It speaks the V2 protocol over
// raw WebSockets (github.com/coder/websocket), runs bounded scenarios on loopback only, prints a
// table and writes JSON. With --spawn it starts a fresh node per scenario so it can read the
// server's CPU time and RSS from /proc.
//
//	realtime-bench --spawn bin/realtime-node --out bench.json
//	realtime-bench --addr 127.0.0.1:4000 --secret <tenant secret> --pid <node pid> --scenarios b,c
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	spawn, addr, adminAddr, host, token, secret, nodeLog string
	vsn, publish, frames, profileDir                     string
	trace                                                bool
	pid, sources, gogc                                   int
	scenarios                                            map[string]bool

	idleCounts         []int
	idleSettle         time.Duration
	connectCount       int
	connectConcurrency int

	fanoutSubs, fanoutRate int
	fanoutDuration         time.Duration
	payloadSize            int

	satSubs  int
	satRates []int
	satStep  time.Duration

	channels, subsPerChannel, channelsRate int
	channelsDuration                       time.Duration
}

func parseFlags() (*config, string, error) {
	c := &config{}
	var scen, idle, rates, out string
	flag.StringVar(&c.spawn, "spawn", "", "start this realtime-node binary (fresh per scenario) with a generated tenant")
	flag.StringVar(&c.nodeLog, "node-log", "realtime-bench-node.log", "where a spawned node's output goes")
	flag.StringVar(&c.addr, "addr", "", "address of a running node (instead of --spawn), e.g. 127.0.0.1:4000")
	flag.StringVar(&c.adminAddr, "admin-addr", "", "admin address (/metrics) of the running node given by --addr, e.g. 127.0.0.1:4002")
	flag.StringVar(&c.host, "host", "", "Host header selecting the tenant (default: the URL's host, i.e. --default-tenant)")
	flag.StringVar(&c.token, "token", "", "client JWT for a running node")
	flag.StringVar(&c.secret, "secret", "", "tenant HS256 secret for a running node (the bench mints tokens)")
	flag.IntVar(&c.pid, "pid", 0, "pid of a running node, for CPU and RSS from /proc")
	flag.IntVar(&c.sources, "sources", 8, "loopback source addresses to spread sockets over (127.0.0.1..)")
	flag.StringVar(&scen, "scenarios", "a,b,c,d,e", "scenarios to run: a idle, b fan-out, c saturation, d channels, e connect")
	flag.StringVar(&idle, "idle", "5000,10000", "socket counts of scenario a")
	flag.DurationVar(&c.idleSettle, "idle-settle", 5*time.Second, "idle time before RSS is read in scenario a")
	flag.IntVar(&c.connectCount, "connect-count", 2000, "sockets opened in scenario e")
	flag.IntVar(&c.connectConcurrency, "concurrency", 64, "parallel connect+join operations")
	flag.IntVar(&c.fanoutSubs, "fanout-subs", 1000, "subscribers in scenario b")
	flag.IntVar(&c.fanoutRate, "fanout-rate", 100, "publish rate (msg/s) in scenario b")
	flag.DurationVar(&c.fanoutDuration, "fanout-duration", 10*time.Second, "publish duration in scenario b")
	flag.IntVar(&c.payloadSize, "payload", 100, "approximate JSON payload size in bytes")
	flag.IntVar(&c.satSubs, "sat-subs", 1000, "subscribers in scenario c")
	flag.StringVar(&rates, "sat-rates", "100,200,400,800,1600,3200,6400", "publish rates (msg/s) tried in scenario c")
	flag.DurationVar(&c.satStep, "sat-step", 5*time.Second, "duration of each step of scenario c")
	flag.IntVar(&c.channels, "channels", 1000, "channels in scenario d")
	flag.IntVar(&c.subsPerChannel, "channel-subs", 5, "subscribers per channel in scenario d")
	flag.IntVar(&c.channelsRate, "channels-rate", 1000, "aggregate publish rate (msg/s) in scenario d")
	flag.DurationVar(&c.channelsDuration, "channels-duration", 10*time.Second, "publish duration in scenario d")
	flag.StringVar(&out, "out", "bench.json", "JSON report path ('' for none)")
	flag.IntVar(&c.gogc, "gogc", 400, "GOGC of the bench process (less client GC noise in latencies)")
	flag.StringVar(&c.vsn, "vsn", "2.0.0", "serializer of every bench socket: 1.0.0 (JSON objects) or 2.0.0 (arrays + binary)")
	flag.StringVar(&c.publish, "publish", "ws", "how fan-out scenarios publish: ws (the publisher's socket) or rest (one message per POST)")
	flag.StringVar(&c.frames, "frames", "binary", "publish form: binary (V2 kind-3 push; with rest, POST /api/broadcast/:topic/events/:event, "+
		"delivered as kind 4 to V2) or text (broadcast push; with rest, POST /api/broadcast, delivered as text); V1 is always text")
	flag.StringVar(&c.profileDir, "profile", "", "save a CPU profile of the spawned node per measured window into this directory")
	flag.BoolVar(&c.trace, "trace", false, "with --profile, also save a runtime/trace of each window")
	flag.Parse()
	if c.vsn != "1.0.0" && c.vsn != "2.0.0" {
		return nil, "", fmt.Errorf("--vsn %q: want 1.0.0 or 2.0.0", c.vsn)
	}
	if c.publish != "ws" && c.publish != "rest" {
		return nil, "", fmt.Errorf("--publish %q: want ws or rest", c.publish)
	}
	if c.frames != "binary" && c.frames != "text" {
		return nil, "", fmt.Errorf("--frames %q: want binary or text", c.frames)
	}

	var err error
	if c.idleCounts, err = intList(idle); err != nil {
		return nil, "", fmt.Errorf("--idle: %w", err)
	}
	if c.satRates, err = intList(rates); err != nil {
		return nil, "", fmt.Errorf("--sat-rates: %w", err)
	}
	c.scenarios = map[string]bool{}
	for _, s := range strings.Split(scen, ",") {
		c.scenarios[strings.TrimSpace(s)] = true
	}
	if (c.spawn == "") == (c.addr == "") {
		return nil, "", errors.New("give exactly one of --spawn or --addr")
	}
	if c.addr != "" && c.token == "" && c.secret == "" {
		return nil, "", errors.New("--addr needs --token or --secret")
	}
	if c.addr != "" && !isLoopback(c.addr) {
		return nil, "", fmt.Errorf("--addr %s is not a loopback address; the bench runs on loopback only", c.addr)
	}
	return c, out, nil
}

func isLoopback(addr string) bool {
	return strings.HasPrefix(addr, "127.") || strings.HasPrefix(addr, "localhost:") || strings.HasPrefix(addr, "[::1]:")
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// target is the node one scenario runs against.
type target struct {
	addr, token string
	adminAddr   string // /metrics (the node's --admin-addr); "" skips the node-side diagnostics
	debugAddr   string // pprof (the spawned node's --debug-addr); "" when not profiling
	pid         int
	stop        func()
}

func (t *target) dialer(c *config) *dialer {
	return newDialer(t.addr, c.host, t.token, c.vsn, c.sources)
}

// binaryFrames reports whether publishes use the binary form (never with V1).
func (c *config) binaryFrames() bool { return c.frames == "binary" && c.vsn != "1.0.0" }

func openTarget(ctx context.Context, c *config) (*target, error) {
	if c.spawn == "" {
		tok := c.token
		if tok == "" {
			tok = signHS256(c.secret, 2*time.Hour)
		}
		return &target{addr: c.addr, token: tok, adminAddr: c.adminAddr, pid: c.pid, stop: func() {}}, nil
	}
	s, secret, err := spawnNode(ctx, c.spawn, c.nodeLog, c.profileDir != "")
	if err != nil {
		return nil, err
	}
	return &target{addr: s.addr, token: signHS256(secret, 2*time.Hour), adminAddr: s.adminAddr, debugAddr: s.debugAddr,
		pid: s.pid(), stop: s.stop}, nil
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	cfg, out, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "realtime-bench:", err)
		os.Exit(2)
	}
	debug.SetGCPercent(cfg.gogc)
	if lim, err := raiseNoFile(200000); err != nil {
		slog.Warn("could not raise RLIMIT_NOFILE", "err", err)
	} else {
		slog.Info("RLIMIT_NOFILE", "soft", lim)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep := &report{StartedAt: time.Now().UTC(), Server: cfg.spawn + cfg.addr,
		Host: hostInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Kernel: kernelRelease()}}
	for _, sc := range plan(cfg) {
		if ctx.Err() != nil {
			break
		}
		slog.Info("scenario", "name", sc.name)
		tg, err := openTarget(ctx, cfg)
		if err != nil {
			rep.Results = append(rep.Results, &result{Scenario: sc.name, Error: err.Error()})
			continue
		}
		rep.Results = append(rep.Results, sc.run(ctx, tg)...)
		tg.stop()
		time.Sleep(time.Second) // let the kernel reap sockets between scenarios
	}
	printTable(os.Stdout, rep.Results)
	if out != "" {
		if err := writeJSON(out, rep); err != nil {
			fmt.Fprintln(os.Stderr, "realtime-bench:", err)
			os.Exit(1)
		}
	}
}

type step struct {
	name string
	run  func(context.Context, *target) []*result
}

func plan(cfg *config) []step {
	var s []step
	one := func(f func(context.Context, *target, *config) *result) func(context.Context, *target) []*result {
		return func(ctx context.Context, tg *target) []*result { return []*result{f(ctx, tg, cfg)} }
	}
	if cfg.scenarios["a"] {
		for _, n := range cfg.idleCounts {
			n := n
			s = append(s, step{fmt.Sprintf("a idle %d", n), func(ctx context.Context, tg *target) []*result {
				return []*result{runIdle(ctx, tg, cfg, n)}
			}})
		}
	}
	if cfg.scenarios["b"] {
		s = append(s, step{"b fan-out", one(runFanout)})
	}
	if cfg.scenarios["c"] {
		s = append(s, step{"c saturation", func(ctx context.Context, tg *target) []*result {
			return runSaturation(ctx, tg, cfg)
		}})
	}
	if cfg.scenarios["d"] {
		s = append(s, step{"d channels", one(runChannels)})
	}
	if cfg.scenarios["e"] {
		s = append(s, step{"e connect+join", one(runConnect)})
	}
	return s
}
