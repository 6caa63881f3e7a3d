package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresConfig configures PostgresDiscovery.
type PostgresConfig struct {
	// DSN of any Postgres 13+ reachable by every node (the control-plane database).
	DSN string
	// Cluster names the cluster; the LISTEN channel is ChannelName(Cluster).
	Cluster string
	// Self is this node's identity, announced as JSON.
	Self Member
	// Interval between heartbeats (default 5 s, upstream's heartbeat_interval).
	Interval time.Duration
	// MissedHeartbeats after which a silent peer is forgotten (default 3).
	MissedHeartbeats int
	// MinBackoff and MaxBackoff bound reconnect delays after the database goes away
	// (defaults 100 ms and 5 s).
	MinBackoff, MaxBackoff time.Duration
}

func (c *PostgresConfig) defaults() {
	if c.Interval <= 0 {
		c.Interval = 5 * time.Second
	}
	if c.MissedHeartbeats <= 0 {
		c.MissedHeartbeats = 3
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
}

// PostgresDiscovery finds nodes through LISTEN/NOTIFY on a shared Postgres (docs/protocol.md#discovery, the
// libcluster_postgres scheme): every node NOTIFYs its identity on connect and every Interval,
// answers a newcomer's hello at once, and forgets a peer silent for MissedHeartbeats intervals.
// Unlike upstream it does forget peers, because the mesh needs the list to stop redialing.
type PostgresDiscovery struct {
	cfg     PostgresConfig
	channel string
	log     *slog.Logger

	mu      sync.Mutex
	table   *heartbeatTable
	changes chan struct{}

	noBye bool // tests: behave like a crashed node on shutdown
}

// NewPostgresDiscovery returns a discovery over cfg; call Run to start it.
func NewPostgresDiscovery(cfg PostgresConfig, log *slog.Logger) *PostgresDiscovery {
	cfg.defaults()
	d := &PostgresDiscovery{
		cfg:     cfg,
		channel: ChannelName(cfg.Cluster),
		log:     log.With("component", "cluster.discovery", "strategy", "postgres"),
		table:   newHeartbeatTable(cfg.Self.Name),
		changes: make(chan struct{}, 1),
	}
	d.table.observe(cfg.Self, time.Now())
	return d
}

// Members returns the known members, self included.
func (d *PostgresDiscovery) Members() []Member {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.table.list()
}

// Changes signals membership changes.
func (d *PostgresDiscovery) Changes() <-chan struct{} { return d.changes }

// Run keeps a session with the database alive, reconnecting with backoff, until ctx ends.
func (d *PostgresDiscovery) Run(ctx context.Context) error {
	bo := backoff{min: d.cfg.MinBackoff, max: d.cfg.MaxBackoff}
	for {
		start := time.Now()
		err := d.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > 2*d.cfg.Interval {
			bo.reset() // the session worked for a while: this is a new outage
		}
		wait := bo.next()
		d.log.Warn("postgres discovery session ended, reconnecting", "err", err, "retry_in", wait)
		if !sleepCtx(ctx, wait) {
			return nil
		}
	}
}

// session runs one connected period: LISTEN on one connection, NOTIFY on another (a connection
// waiting for notifications cannot run queries), until either fails or ctx ends.
func (d *PostgresDiscovery) session(ctx context.Context) error {
	listener, err := d.connect(ctx)
	if err != nil {
		return err
	}
	defer listener.Close(context.Background())
	if _, err := listener.Exec(ctx, "LISTEN "+pgx.Identifier{d.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen %s: %w", d.channel, err)
	}
	notifier, err := d.connect(ctx)
	if err != nil {
		return err
	}
	defer notifier.Close(context.Background())

	d.mu.Lock()
	d.table.touchAll(time.Now())
	d.mu.Unlock()
	if err := d.announce(ctx, notifier, opHello); err != nil {
		return err
	}
	d.log.Info("postgres discovery connected", "channel", d.channel)

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answer := make(chan struct{}, 1)
	var listenErr error
	listenDone := make(chan struct{})
	go func() { defer close(listenDone); listenErr = d.listen(sctx, listener, answer) }()
	err = d.beat(sctx, notifier, answer, listenDone)
	cancel()
	<-listenDone
	if err == nil {
		err = listenErr
	}
	if ctx.Err() != nil && !d.noBye {
		byeCtx, done := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = d.announce(byeCtx, notifier, opBye)
		done()
	}
	return err
}

// beat announces every Interval and whenever a newcomer said hello, and expires silent peers.
func (d *PostgresDiscovery) beat(ctx context.Context, conn *pgx.Conn, answer, listenDone <-chan struct{}) error {
	tick := time.NewTicker(d.cfg.Interval)
	defer tick.Stop()
	window := d.cfg.Interval * time.Duration(d.cfg.MissedHeartbeats)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-listenDone:
			return nil // the caller reports the listener's error
		case <-answer:
		case <-tick.C:
			d.mu.Lock()
			gone := d.table.expire(time.Now(), window)
			d.mu.Unlock()
			for _, m := range gone {
				d.log.Info("peer forgotten after missed heartbeats", "peer", m.Name, "addr", m.Addr)
			}
			if len(gone) > 0 {
				notify(d.changes)
			}
		}
		if err := d.announce(ctx, conn, opBeat); err != nil {
			return err
		}
	}
}

// listen applies notifications to the table until the connection fails or ctx ends.
func (d *PostgresDiscovery) listen(ctx context.Context, conn *pgx.Conn, answer chan struct{}) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("wait for notification: %w", err)
		}
		a, err := decodeAnnouncement(n.Payload)
		if err != nil {
			d.log.Warn("ignoring malformed cluster announcement", "err", err)
			continue
		}
		if a.Name == d.cfg.Self.Name {
			continue
		}
		d.apply(a, answer)
	}
}

func (d *PostgresDiscovery) apply(a announcement, answer chan struct{}) {
	d.mu.Lock()
	var changed bool
	if a.Op == opBye {
		changed = d.table.forget(a.Member)
	} else {
		changed = d.table.observe(a.Member, time.Now())
	}
	d.mu.Unlock()
	if a.Op == opHello {
		notify(answer)
	}
	if changed {
		d.log.Info("cluster membership changed", "op", a.Op, "peer", a.Name, "addr", a.Addr, "region", a.Region)
		notify(d.changes)
	}
}

// announce NOTIFYs our identity. pg_notify takes the channel as a value, so no quoting games.
func (d *PostgresDiscovery) announce(ctx context.Context, conn *pgx.Conn, op string) error {
	payload, err := encodeAnnouncement(op, d.cfg.Self)
	if err != nil {
		return err
	}
	// A bounded wait turns a silently dead connection into an error and a reconnect.
	ctx, cancel := context.WithTimeout(ctx, max(d.cfg.Interval, 2*time.Second))
	defer cancel()
	if _, err := conn.Exec(ctx, "SELECT pg_notify($1, $2)", d.channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", op, err)
	}
	return nil
}

func (d *PostgresDiscovery) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(d.cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse discovery dsn: %w", err)
	}
	app := "cluster_node_" + d.cfg.Self.Name
	if len(app) > maxIdentifier {
		app = app[:maxIdentifier]
	}
	cfg.RuntimeParams["application_name"] = app
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect discovery database: %w", err)
	}
	return conn, nil
}
