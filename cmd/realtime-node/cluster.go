package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/changes/remote"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/clusterwire"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// clusterConfig selects how this node finds and talks to the others.
type clusterConfig struct {
	mode          string // "", static, postgres, dns
	name          string
	addr          string
	peers         string
	dsn           string
	dnsName       string
	presencePulse time.Duration
	presenceDown  time.Duration
}

func clusterFlags(c *clusterConfig) {
	flag.StringVar(&c.mode, "cluster", os.Getenv("DISCOVERY_MODE"), "cluster discovery: none, static, postgres or dns")
	flag.StringVar(&c.name, "cluster-name", envOr("CLUSTER_NAME", "realtime"), "cluster name (Postgres discovery channel)")
	flag.StringVar(&c.addr, "cluster-addr", envOr("CLUSTER_ADDR", defaultClusterAddr()), "listen address of the inter-node link")
	flag.StringVar(&c.peers, "cluster-peers", os.Getenv("CLUSTER_PEERS"), "static peers: name@region=host:port,...")
	flag.StringVar(&c.dsn, "cluster-db", os.Getenv("DISCOVERY_POSTGRES_DSN"), "Postgres for LISTEN/NOTIFY discovery")
	flag.StringVar(&c.dnsName, "cluster-dns", os.Getenv("DISCOVERY_DNS_NAME"), "headless Service name for DNS discovery")
	flag.DurationVar(&c.presencePulse, "presence-broadcast-period", presence.DefaultBroadcastPeriod, "presence delta period")
	flag.DurationVar(&c.presenceDown, "presence-down-period", 5*time.Second, "remove an unreachable node's presences after this long")
}

func defaultClusterAddr() string {
	if ip := os.Getenv("POD_IP"); ip != "" {
		return net.JoinHostPort(ip, "4001")
	}
	return ""
}

// clusterParts is the running cluster layer of a node.
type clusterParts struct {
	mesh     *cluster.Mesh
	disc     cluster.Discovery
	counters *cluster.Counters
	wiring   *clusterwire.Wiring
	changes  []runner // Postgres Changes ownership and routing (changesOwner, routeChanges)
}

// changesOwner decides which tenants' WAL this node streams. The operator's assignment (Kubernetes
// tenant source) stays; without the operator every node computes placement over the live members.
func (c *clusterParts) changesOwner(src *tenantSource, log *slog.Logger) changes.Owner {
	if _, standalone := src.owner.(changes.AlwaysOwner); !standalone {
		return src.owner
	}
	o := remote.NewMeshOwner(remote.OwnerConfig{Mesh: c.mesh, Tenants: src.registry.Get, Mapping: regionMapping(log),
		Members: c.disc.Members, Log: log})
	c.changes = append(c.changes, o.Run)
	return o
}

// routeChanges registers the node's Postgres Changes subscriptions with each tenant's WAL owner
// and serves the other nodes' subscriptions for the tenants this node streams.
func (c *clusterParts) routeChanges(cdc *changes.Service, reg tenant.Registry, log *slog.Logger) *remote.Layer {
	l := remote.New(remote.Config{Mesh: c.mesh, Service: cdc, Tenants: reg.Get, Log: log})
	c.changes = append(c.changes, l.Run)
	return l
}

// regionMapping reads REGION_MAPPING (a JSON object of database region → node region, spec 8.4).
func regionMapping(log *slog.Logger) map[string]string {
	v := os.Getenv("REGION_MAPPING")
	if v == "" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		log.Error("ignoring malformed REGION_MAPPING", "err", err)
		return nil
	}
	return m
}

// newCluster builds discovery, mesh and wiring; nil when the node runs alone.
func newCluster(cfg config, log *slog.Logger, reg prometheus.Registerer, broker *pubsub.Broker, tracker *presence.CRDTTracker, users *channel.Users) (*clusterParts, error) {
	c := cfg.cluster
	if c.mode == "" || c.mode == "none" {
		return nil, nil
	}
	secret := []byte(os.Getenv("CLUSTER_SECRET"))
	if len(secret) < 16 {
		return nil, errors.New("cluster: CLUSTER_SECRET must be set (at least 16 bytes) so only our nodes can join")
	}
	if c.addr == "" {
		return nil, errors.New("cluster: --cluster-addr (or POD_IP) is required")
	}
	self := cluster.Member{Name: cfg.nodeName, Region: cfg.region, Addr: c.addr, Epoch: tracker.Replica().Epoch}
	disc, err := newDiscovery(c, self, log)
	if err != nil {
		return nil, err
	}
	opts := cluster.Options{ListenAddr: c.addr}
	if files := tlsFromEnv(); files.enabled() {
		if opts.ServerTLS, err = files.serverConfig(); err != nil {
			return nil, err
		}
		if opts.ClientTLS, err = files.clientConfig(); err != nil {
			return nil, err
		}
	}
	mesh := cluster.NewMesh(self, secret, disc, opts, log, reg)
	counters := cluster.NewCounters(mesh, cluster.CountersOptions{})
	reg.MustRegister(counters.Collector())
	w := clusterwire.New(clusterwire.Config{
		Mesh: mesh, Broker: broker, Tracker: tracker, Users: users, Counters: counters,
		BroadcastPeriod: c.presencePulse, DownPeriod: c.presenceDown, Log: log, Registerer: reg,
	})
	return &clusterParts{mesh: mesh, disc: disc, counters: counters, wiring: w}, nil
}

func newDiscovery(c clusterConfig, self cluster.Member, log *slog.Logger) (cluster.Discovery, error) {
	switch c.mode {
	case "static":
		members, err := parsePeers(c.peers)
		if err != nil {
			return nil, err
		}
		return cluster.NewStaticDiscovery(append(members, self)...), nil
	case "postgres":
		if c.dsn == "" {
			return nil, errors.New("cluster: postgres discovery needs --cluster-db / DISCOVERY_POSTGRES_DSN")
		}
		return cluster.NewPostgresDiscovery(cluster.PostgresConfig{DSN: c.dsn, Cluster: c.name, Self: self}, log), nil
	case "dns":
		_, port, err := net.SplitHostPort(self.Addr)
		if err != nil || c.dnsName == "" {
			return nil, fmt.Errorf("cluster: dns discovery needs --cluster-dns and a host:port --cluster-addr")
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("cluster: bad port in --cluster-addr %q: %w", self.Addr, err)
		}
		return cluster.NewDNSDiscovery(cluster.DNSConfig{Name: c.dnsName, Port: p}, log), nil
	}
	return nil, fmt.Errorf("cluster: unknown discovery mode %q (want static, postgres or dns)", c.mode)
}

// parsePeers reads "name@region=host:port,...".
func parsePeers(s string) ([]cluster.Member, error) {
	var out []cluster.Member
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, addr, ok := strings.Cut(item, "=")
		name, region, _ := strings.Cut(id, "@")
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("cluster: bad peer %q, want name@region=host:port", item)
		}
		out = append(out, cluster.Member{Name: name, Region: region, Addr: addr})
	}
	return out, nil
}
