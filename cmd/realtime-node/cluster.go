package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/changes/remote"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/meshrelay"
	"github.com/realtimeops/realtime/node/nodeconfig"
	"github.com/realtimeops/realtime/node/placement"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

// clusterParts is the running cluster layer of a node.
type clusterParts struct {
	mesh     *cluster.Mesh
	disc     cluster.Discovery
	counters *cluster.Counters
	wiring   *meshrelay.Relay
	changes  []runner // Postgres Changes ownership and routing (changesOwner, routeChanges)
}

// changesOwner decides which tenants' WAL this node streams. The operator's assignment (Kubernetes
// tenant source) stays; without the operator every node computes placement over the live members.
// The nodes' shared RTT figures (rttOf) and the margin feed that placement.
func (c *clusterParts) changesOwner(src *tenantSource, mapping map[string]string, rttOf func(node, endpoint string) float64, marginMs float64, log *slog.Logger) changes.Owner {
	if _, standalone := src.owner.(changes.AlwaysOwner); !standalone {
		return src.owner
	}
	policy := placement.DefaultPolicy
	policy.MarginMs = marginMs
	o := remote.NewMeshOwner(remote.OwnerConfig{Mesh: c.mesh, Tenants: src.registry.Get, Mapping: mapping,
		Members: c.disc.Members, RTT: rttOf, Policy: &policy, Log: log})
	c.changes = append(c.changes, o.Run)
	return o
}

// routeChanges registers the node's Postgres Changes subscriptions with each tenant's WAL owner
// and serves the other nodes' subscriptions for the tenants this node streams.
func (c *clusterParts) routeChanges(newChanges remote.NewService, reg tenant.Registry, log *slog.Logger) *remote.Layer {
	l := remote.New(remote.Config{Mesh: c.mesh, Tenants: reg.Get, Log: log}, newChanges)
	c.changes = append(c.changes, l.Run)
	return l
}

// newCluster builds discovery, mesh and wiring; nil when the node runs alone.
func newCluster(cfg config, log *slog.Logger, reg prometheus.Registerer, broker *pubsub.Broker, tracker *presence.CRDTTracker, users *channel.Users) (*clusterParts, error) {
	c := cfg.Cluster
	if !c.Enabled() {
		return nil, nil // Load checked the secret and address of an enabled cluster
	}
	secret := []byte(c.Secret)
	self := cluster.Member{Name: cfg.NodeName, Region: cfg.Region, Addr: c.Addr, Epoch: tracker.Replica().Epoch}
	disc, err := newDiscovery(c, self, log)
	if err != nil {
		return nil, err
	}
	opts := cluster.Options{ListenAddr: c.Addr}
	if files := cfg.TLS; files.Enabled() {
		if opts.ServerTLS, err = serverTLSConfig(files); err != nil {
			return nil, err
		}
		if opts.ClientTLS, err = clientTLSConfig(files); err != nil {
			return nil, err
		}
	}
	mesh := cluster.NewMesh(self, secret, disc, opts, log, reg)
	counters := cluster.NewCounters(mesh, cluster.CountersOptions{Local: users.Snapshot})
	// realtime_connections_connected_cluster is exported once, by channel.Metrics over deps.Users,
	// which meshrelay completes with the other nodes' counts (a second registration made every
	// clustered node panic at start, "previously registered descriptor", seen in real pods).
	w := meshrelay.New(meshrelay.Config{
		Mesh: mesh, Broker: broker, Tracker: tracker, Users: users, Counters: counters,
		BroadcastPeriod: c.PresencePulse, DownPeriod: c.PresenceDown, Log: log, Registerer: reg,
	})
	return &clusterParts{mesh: mesh, disc: disc, counters: counters, wiring: w}, nil
}

func newDiscovery(c nodeconfig.Cluster, self cluster.Member, log *slog.Logger) (cluster.Discovery, error) {
	switch c.Mode {
	case "static":
		members, err := parsePeers(c.Peers)
		if err != nil {
			return nil, err
		}
		return cluster.NewStaticDiscovery(append(members, self)...), nil
	case "postgres":
		if c.DSN == "" {
			return nil, errors.New("cluster: postgres discovery needs --cluster-db / DISCOVERY_POSTGRES_DSN")
		}
		return cluster.NewPostgresDiscovery(cluster.PostgresConfig{DSN: c.DSN, Cluster: c.Name, Self: self}, log), nil
	case "dns":
		_, port, err := net.SplitHostPort(self.Addr)
		if err != nil || c.DNSName == "" {
			return nil, fmt.Errorf("cluster: dns discovery needs --cluster-dns and a host:port --cluster-addr")
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("cluster: bad port in --cluster-addr %q: %w", self.Addr, err)
		}
		return cluster.NewDNSDiscovery(cluster.DNSConfig{Name: c.DNSName, Port: p}, log), nil
	}
	return nil, fmt.Errorf("cluster: unknown discovery mode %q (want static, postgres or dns)", c.Mode)
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
