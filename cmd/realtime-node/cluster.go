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
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/nodeconfig"
	"github.com/realtimeops/realtime/node/placement"
)

// newMesh builds discovery and the authenticated mesh to the other nodes; nil, nil when the node
// runs alone.
func newMesh(cfg config, epoch int64, log *slog.Logger, reg prometheus.Registerer) (*cluster.Mesh, cluster.Discovery, error) {
	c := cfg.Cluster
	if !c.Enabled() {
		return nil, nil, nil // Load checked the secret and address of an enabled cluster
	}
	self := cluster.Member{Name: cfg.NodeName, Region: cfg.Region, Addr: c.Addr, Epoch: epoch}
	disc, err := newDiscovery(c, self, log)
	if err != nil {
		return nil, nil, err
	}
	opts := cluster.Options{ListenAddr: c.Addr}
	if files := cfg.TLS; files.Enabled() {
		if opts.ServerTLS, err = serverTLSConfig(files); err != nil {
			return nil, nil, err
		}
		if opts.ClientTLS, err = clientTLSConfig(files); err != nil {
			return nil, nil, err
		}
	}
	return cluster.NewMesh(self, []byte(c.Secret), disc, opts, log, reg), disc, nil
}

// meshOwner decides which tenants' WAL this node streams. The operator's assignment (Kubernetes
// tenant source) and a node alone keep the source's owner; without the operator every clustered
// node computes placement over the live members, fed by the nodes' shared RTT figures (rttOf)
// and the margin. run is the mesh owner's runner (nil when the source's owner stays).
func meshOwner(cfg config, src *tenantSource, mesh *cluster.Mesh, disc cluster.Discovery, rttOf func(node, endpoint string) float64, log *slog.Logger) (o changes.Owner, run runner) {
	if _, standalone := src.owner.(changes.AlwaysOwner); !standalone || mesh == nil {
		return src.owner, nil
	}
	policy := placement.DefaultPolicy
	policy.MarginMs = cfg.RTT.MarginMs
	mo := remote.NewMeshOwner(remote.OwnerConfig{Mesh: mesh, Tenants: src.registry.Get, Mapping: cfg.RegionMapping,
		Members: disc.Members, RTT: rttOf, Policy: &policy, Log: log})
	return mo, mo.Run
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
