// Package nodeconfig is the node's configuration contract: the environment variables (and the
// flags that override them) of realtime-node. The operator builds node pods with these names
// (controllers) and the node parses them with Load, so the two sides share one definition; a test
// in controllers feeds the operator's pod template through Load.
package nodeconfig

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"time"
)

// Environment variables of the node.
const (
	EnvAddr                = "ADDR"
	EnvAdminAddr           = "ADMIN_ADDR"
	EnvTenantsFile         = "TENANTS_FILE"
	EnvTenantSource        = "TENANT_SOURCE"
	EnvDefaultTenant       = "DEFAULT_TENANT"
	EnvLogLevel            = "LOG_LEVEL"
	EnvPodName             = "POD_NAME"
	EnvPodIP               = "POD_IP"
	EnvNamespace           = "NAMESPACE"
	EnvRegion              = "REGION"
	EnvDebugAddr           = "DEBUG_ADDR"
	EnvDrainWindow         = "DRAIN_WINDOW"
	EnvDiscoveryMode       = "DISCOVERY_MODE"
	EnvClusterName         = "CLUSTER_NAME"
	EnvClusterAddr         = "CLUSTER_ADDR"
	EnvClusterPeers        = "CLUSTER_PEERS"
	EnvDiscoveryDSN        = "DISCOVERY_POSTGRES_DSN"
	EnvDiscoveryDNSName    = "DISCOVERY_DNS_NAME"
	EnvClusterSecret       = "CLUSTER_SECRET"
	EnvRegionMapping       = "REGION_MAPPING"
	EnvTLSCertFile         = "TLS_CERT_FILE"
	EnvTLSKeyFile          = "TLS_KEY_FILE"
	EnvTLSCAFile           = "TLS_CA_FILE"
	EnvMetricsJWTSecret    = "METRICS_JWT_SECRET"
	EnvChannelErrorBackoff = "CHANNEL_ERROR_BACKOFF_MS"
	EnvConnectErrorBackoff = "CONNECT_ERROR_BACKOFF_MS"
	EnvInspector           = "INSPECTOR"
	EnvInspectorAdminToken = "INSPECTOR_ADMIN_TOKEN"
	EnvRTTInterval         = "RTT_INTERVAL"
	EnvRTTHold             = "RTT_HOLD"
)

var known = []string{
	EnvAddr, EnvAdminAddr, EnvTenantsFile, EnvTenantSource, EnvDefaultTenant, EnvLogLevel, EnvPodName,
	EnvPodIP, EnvNamespace, EnvRegion, EnvDebugAddr, EnvDrainWindow, EnvDiscoveryMode, EnvClusterName,
	EnvClusterAddr, EnvClusterPeers, EnvDiscoveryDSN, EnvDiscoveryDNSName, EnvClusterSecret,
	EnvRegionMapping, EnvTLSCertFile, EnvTLSKeyFile, EnvTLSCAFile, EnvMetricsJWTSecret,
	EnvChannelErrorBackoff, EnvConnectErrorBackoff, EnvInspector, EnvInspectorAdminToken,
	EnvRTTInterval, EnvRTTHold,
}

// Known reports whether name is an environment variable the node reads.
func Known(name string) bool { return slices.Contains(known, name) }

// Defaults of the node.
const (
	DefaultAddr        = ":4000"
	DefaultClusterPort = 4001
	DefaultDrainWindow = 10 * time.Second
	// MinClusterSecret is the shortest accepted inter-node secret.
	MinClusterSecret = 16
	// MinInspectorAdminToken is the shortest accepted inspector admin token.
	MinInspectorAdminToken = 16
)

// Config is the node's whole configuration.
type Config struct {
	Addr string
	// AdminAddr serves /metrics and /status (and never the client API); empty disables it.
	AdminAddr     string
	TenantsFile   string
	TenantSource  string
	DefaultTenant string
	LogLevel      string
	NodeName      string
	Region        string
	Namespace     string
	PrintDevHelp  bool
	DrainWindow   time.Duration
	DebugAddr     string
	Cluster       Cluster
	RegionMapping map[string]string
	TLS           TLSFiles
	// MetricsJWTSecret protects /metrics with a Bearer JWT signed with it (docs/protocol.md#health-endpoints).
	MetricsJWTSecret    string
	ChannelErrorBackoff time.Duration
	ConnectErrorBackoff time.Duration
	// Inspector serves the inspector page at /inspector (node/inspector); InspectorAdminToken
	// (environment only, like every secret) opens its node-wide view.
	Inspector           bool
	InspectorAdminToken string
	// RTT configures database round-trip measurement (node/rtt) and its use in placement.
	RTT RTT
}

// RTT means probe every Interval (jittered); a published figure changes after a significant change
// held for Hold; nodes within MarginMs of the best RTT are as good as the best.
type RTT struct {
	Interval time.Duration
	Hold     time.Duration
	MarginMs float64
}

// Cluster selects how this node finds and talks to the others.
type Cluster struct {
	Mode          string // "", none, static, postgres, dns
	Name          string
	Addr          string
	Peers         string
	DSN           string
	DNSName       string
	Secret        string
	PresencePulse time.Duration
	PresenceDown  time.Duration
}

// Enabled reports whether the node joins a cluster.
func (c Cluster) Enabled() bool { return c.Mode != "" && c.Mode != "none" }

// TLSFiles are the serving certificate, key and optional CA.
type TLSFiles struct{ Cert, Key, CA string }

// Enabled reports whether TLS is configured.
func (f TLSFiles) Enabled() bool { return f.Cert != "" && f.Key != "" }

// Load parses args over the environment (getenv; flags win) and checks the result.
// presencePulse is the default presence broadcast period (owned by the presence package).
func Load(args []string, getenv func(string) string, presencePulse time.Duration) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c Config
	fs := flag.NewFlagSet("realtime-node", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.StringVar(&c.Addr, "addr", env(EnvAddr, DefaultAddr), "listen address for HTTP and WebSocket (clients)")
	fs.StringVar(&c.AdminAddr, "admin-addr", getenv(EnvAdminAddr), "listen address of /metrics and /status (empty: off)")
	fs.StringVar(&c.TenantsFile, "tenants", env(EnvTenantsFile, "config/dev/tenants.yaml"), "file of Tenant (and Secret) documents")
	fs.StringVar(&c.TenantSource, "tenant-source", env(EnvTenantSource, "file"), "where tenants come from: file or kubernetes")
	fs.StringVar(&c.DefaultTenant, "default-tenant", getenv(EnvDefaultTenant), "tenant used when the Host names none")
	fs.StringVar(&c.LogLevel, "log-level", env(EnvLogLevel, "info"), "debug, info, warn or error")
	fs.StringVar(&c.NodeName, "node-name", env(EnvPodName, hostname()), "node name in the cluster")
	fs.StringVar(&c.Region, "region", env(EnvRegion, "local"), "region of this node")
	fs.BoolVar(&c.PrintDevHelp, "print-dev-help", false, "print how to connect to the dev tenant")
	fs.StringVar(&c.DebugAddr, "debug-addr", getenv(EnvDebugAddr), "serve pprof on this address (off when empty)")
	fs.BoolVar(&c.Inspector, "inspector", getenv(EnvInspector) == "true", "serve the inspector page at /inspector (a tenant JWT or INSPECTOR_ADMIN_TOKEN opens it)")
	drain, err := envDuration(getenv, EnvDrainWindow, DefaultDrainWindow)
	if err != nil {
		return c, err
	}
	fs.DurationVar(&c.DrainWindow, "drain-window", drain, "spread client disconnects over this long on shutdown")
	rttEvery, err := envDuration(getenv, EnvRTTInterval, 30*time.Second)
	if err != nil {
		return c, err
	}
	rttHold, err := envDuration(getenv, EnvRTTHold, 2*time.Minute)
	if err != nil {
		return c, err
	}
	fs.DurationVar(&c.RTT.Interval, "rtt-interval", rttEvery, "measure tenant database round-trip times this often (jittered)")
	fs.DurationVar(&c.RTT.Hold, "rtt-hold", rttHold, "a published RTT figure follows a significant change only after it held this long")
	fs.Float64Var(&c.RTT.MarginMs, "rtt-margin-ms", 5, "nodes within this many ms of the best RTT are as good as the best")
	cl := &c.Cluster
	fs.StringVar(&cl.Mode, "cluster", getenv(EnvDiscoveryMode), "cluster discovery: none, static, postgres or dns")
	fs.StringVar(&cl.Name, "cluster-name", env(EnvClusterName, "realtime"), "cluster name (Postgres discovery channel)")
	fs.StringVar(&cl.Addr, "cluster-addr", env(EnvClusterAddr, defaultClusterAddr(getenv(EnvPodIP))), "listen address of the inter-node link")
	fs.StringVar(&cl.Peers, "cluster-peers", getenv(EnvClusterPeers), "static peers: name@region=host:port,...")
	fs.StringVar(&cl.DSN, "cluster-db", getenv(EnvDiscoveryDSN), "Postgres for LISTEN/NOTIFY discovery")
	fs.StringVar(&cl.DNSName, "cluster-dns", getenv(EnvDiscoveryDNSName), "headless Service name for DNS discovery")
	fs.DurationVar(&cl.PresencePulse, "presence-broadcast-period", presencePulse, "presence delta period")
	fs.DurationVar(&cl.PresenceDown, "presence-down-period", 5*time.Second, "remove an unreachable node's presences after this long")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("flags: %w", err)
	}
	c.Namespace = getenv(EnvNamespace)
	cl.Secret = getenv(EnvClusterSecret)
	c.TLS = TLSFiles{Cert: getenv(EnvTLSCertFile), Key: getenv(EnvTLSKeyFile), CA: getenv(EnvTLSCAFile)}
	c.MetricsJWTSecret = getenv(EnvMetricsJWTSecret)
	c.InspectorAdminToken = getenv(EnvInspectorAdminToken)
	if c.ChannelErrorBackoff, err = envMillis(getenv, EnvChannelErrorBackoff, 5*time.Second); err != nil {
		return c, err
	}
	if c.ConnectErrorBackoff, err = envMillis(getenv, EnvConnectErrorBackoff, 2*time.Second); err != nil {
		return c, err
	}
	if v := getenv(EnvRegionMapping); v != "" {
		if err := json.Unmarshal([]byte(v), &c.RegionMapping); err != nil {
			return c, fmt.Errorf("%s: want a JSON object of database region to node region: %w", EnvRegionMapping, err)
		}
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.Cluster.Enabled() {
		if len(c.Cluster.Secret) < MinClusterSecret {
			errs = append(errs, fmt.Errorf("cluster: %s must be set (at least %d bytes) so only our nodes can join", EnvClusterSecret, MinClusterSecret))
		}
		if c.Cluster.Addr == "" {
			errs = append(errs, fmt.Errorf("cluster: --cluster-addr (or %s) is required", EnvPodIP))
		}
	}
	if c.AdminAddr != "" && c.AdminAddr == c.Addr {
		errs = append(errs, errors.New("--admin-addr must differ from --addr: the admin endpoints must not share the client port"))
	}
	if c.InspectorAdminToken != "" && len(c.InspectorAdminToken) < MinInspectorAdminToken {
		errs = append(errs, fmt.Errorf("%s must have at least %d characters", EnvInspectorAdminToken, MinInspectorAdminToken))
	}
	if c.TenantSource == "kubernetes" || c.TenantSource == "kube" {
		for name, v := range map[string]string{EnvNamespace: c.Namespace, EnvPodName: c.NodeName} {
			if v == "" {
				errs = append(errs, fmt.Errorf("kubernetes tenant source: %s must be set", name))
			}
		}
	}
	return errors.Join(errs...)
}

func defaultClusterAddr(podIP string) string {
	if podIP == "" {
		return ""
	}
	return net.JoinHostPort(podIP, strconv.Itoa(DefaultClusterPort))
}

func envMillis(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return 0, fmt.Errorf("%s: want a number of milliseconds, got %q", name, v)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func envDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: want a duration such as 10s, got %q", name, v)
	}
	return d, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "realtime"
	}
	return h
}
