package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DNSConfig configures DNSDiscovery.
type DNSConfig struct {
	// Name to resolve, typically a Kubernetes headless Service
	// ("realtime-eu.realtime.svc.cluster.local"): one A/AAAA record per ready pod.
	Name string
	// Port of the cluster link listener on every pod.
	Port int
	// Interval between lookups (default 5 s, upstream's DNS poll).
	Interval time.Duration
	// LookupHost resolves Name; default net.DefaultResolver.LookupHost.
	LookupHost func(ctx context.Context, host string) ([]string, error)
}

// DNSDiscovery polls a DNS name; every address is a member. DNS knows neither names nor regions,
// so members carry only Addr: the mesh dials them and learns the rest in the link handshake.
type DNSDiscovery struct {
	cfg DNSConfig
	log *slog.Logger

	mu      sync.Mutex
	members []Member
	changes chan struct{}
}

// NewDNSDiscovery returns a discovery over cfg; call Run to start polling.
func NewDNSDiscovery(cfg DNSConfig, log *slog.Logger) *DNSDiscovery {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.LookupHost == nil {
		cfg.LookupHost = net.DefaultResolver.LookupHost
	}
	return &DNSDiscovery{
		cfg:     cfg,
		log:     log.With("component", "cluster.discovery", "strategy", "dns", "name", cfg.Name),
		changes: make(chan struct{}, 1),
	}
}

// Members returns the addresses of the last successful lookup.
func (d *DNSDiscovery) Members() []Member {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.members)
}

// Changes signals a changed address set.
func (d *DNSDiscovery) Changes() <-chan struct{} { return d.changes }

// Run resolves at once and then every Interval until ctx ends. A failed lookup keeps the last
// list: a DNS hiccup must not tear down healthy links.
func (d *DNSDiscovery) Run(ctx context.Context) error {
	tick := time.NewTicker(d.cfg.Interval)
	defer tick.Stop()
	for {
		if err := d.poll(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("dns discovery lookup failed, keeping last member list", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (d *DNSDiscovery) poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Interval)
	defer cancel()
	ips, err := d.cfg.LookupHost(ctx, d.cfg.Name)
	if err != nil {
		return fmt.Errorf("lookup %s: %w", d.cfg.Name, err)
	}
	ms := membersFromAddrs(ips, d.cfg.Port)
	d.mu.Lock()
	changed := !slices.Equal(ms, d.members)
	d.members = ms
	d.mu.Unlock()
	if changed {
		d.log.Info("dns discovery members changed", "count", len(ms))
		notify(d.changes)
	}
	return nil
}

// membersFromAddrs turns resolved addresses into sorted, de-duplicated members on port.
func membersFromAddrs(ips []string, port int) []Member {
	ms := make([]Member, 0, len(ips))
	for _, ip := range ips {
		if net.ParseIP(ip) == nil {
			continue
		}
		ms = append(ms, Member{Addr: net.JoinHostPort(ip, strconv.Itoa(port))})
	}
	sortMembers(ms)
	return slices.Compact(ms)
}
