package v1alpha1

import (
	"fmt"
	"strconv"
	"strings"
)

// NodePort is the port every realtime node listens on (HTTP, WebSocket, /healthz, /readyz).
const NodePort int32 = 4000

// ClusterPort is where nodes accept inter-node links (the node derives it from POD_IP).
const ClusterPort int32 = 4001

// AdminPort serves /metrics and /status (ADMIN_ADDR); the client Service does not expose it.
const AdminPort int32 = 4002

// ClusterSecretKey is the key of the inter-node secret in the Secret the operator generates.
const ClusterSecretKey = "secret"

// GeneratedClusterSecretName is the Secret the operator creates when spec.clusterSecretRef is unset.
func (c *RealtimeCluster) GeneratedClusterSecretName() string { return c.Name + "-cluster-secret" }

// ClusterSecret is the Secret key holding the inter-node secret: spec.clusterSecretRef, else the
// generated Secret.
func (c *RealtimeCluster) ClusterSecret() SecretKeySelector {
	if c.Spec.ClusterSecretRef != nil {
		return *c.Spec.ClusterSecretRef
	}
	return SecretKeySelector{Name: c.GeneratedClusterSecretName(), Key: ClusterSecretKey}
}

// RegionNames lists the regions in spec order, comma-separated (the Regions printer column).
func (c *RealtimeCluster) RegionNames() string {
	names := make([]string, 0, len(c.Spec.Regions))
	for _, r := range c.Spec.Regions {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

// StatefulSetName is the name of the StatefulSet (and PDB) of one region.
func (c *RealtimeCluster) StatefulSetName(region string) string {
	return c.Name + "-" + region
}

// HeadlessServiceName is the Service nodes use to discover each other by DNS.
func (c *RealtimeCluster) HeadlessServiceName() string { return c.Name + "-nodes" }

// ClientServiceName is the Service clients connect to.
func (c *RealtimeCluster) ClientServiceName() string { return c.Name }

// NodeServiceAccountName names the ServiceAccount, Role and RoleBinding of the node pods.
func (c *RealtimeCluster) NodeServiceAccountName() string { return c.Name + "-node" }

// DiscoveryDNSName is the FQDN of the headless Service.
func (c *RealtimeCluster) DiscoveryDNSName() string {
	return fmt.Sprintf("%s.%s.svc", c.HeadlessServiceName(), c.Namespace)
}

// ClusterLabels select every node pod of the cluster.
func (c *RealtimeCluster) ClusterLabels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     "realtime-node",
		"app.kubernetes.io/instance": c.Name,
		ClusterLabel:                 c.Name,
	}
}

// RegionLabels select the node pods of one region.
func (c *RealtimeCluster) RegionLabels(region string) map[string]string {
	l := c.ClusterLabels()
	l[RegionLabel] = region
	return l
}

// Region returns the spec of the named region.
func (c *RealtimeCluster) Region(name string) (RegionSpec, bool) {
	for _, r := range c.Spec.Regions {
		if r.Name == name {
			return r, true
		}
	}
	return RegionSpec{}, false
}

// DesiredReplicas sums the replicas of all regions.
func (c *RealtimeCluster) DesiredReplicas() int32 {
	var n int32
	for _, r := range c.Spec.Regions {
		n += r.Replicas
	}
	return n
}

// MetricsEnabled reports whether /metrics is served and scraped.
func (c *RealtimeCluster) MetricsEnabled() bool {
	return c.Spec.Metrics.Enabled == nil || *c.Spec.Metrics.Enabled
}

// ZoneSpreadEnabled reports whether the region's pods are spread over zones.
func (r RegionSpec) ZoneSpreadEnabled() bool { return r.ZoneSpread == nil || *r.ZoneSpread }

// NodesSummary formats ready/desired for the printer column.
func NodesSummary(ready, desired int32) string {
	return strconv.Itoa(int(ready)) + "/" + strconv.Itoa(int(desired))
}
