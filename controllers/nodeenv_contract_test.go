package controllers

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	nc "github.com/realtimeops/realtime/node/nodeconfig"
)

// TestNodeEnvContract feeds the node container the operator builds through the node's own
// configuration loader (node/nodeconfig.Load), as the kubelet would: field references resolved
// from a pod, Secret references from Secrets. Every variable the operator sets must be one the
// node reads (PORT and METRICS_ENABLED were not), and the node must come up listening where
// the probes, ports and Services point.
func TestNodeEnvContract(t *testing.T) {
	c := builderCluster(func(c *realtimev1.RealtimeCluster) {
		c.Spec.TLS = &realtimev1.TLSSpec{SecretRef: realtimev1.LocalObjectReference{Name: "tls"}}
		c.Spec.Discovery = realtimev1.DiscoverySpec{Mode: realtimev1.DiscoveryPostgres, Postgres: &realtimev1.PostgresDiscoverySpec{
			SecretRef: realtimev1.SecretKeySelector{Name: "control-db", Key: "dsn"}}}
		c.Spec.RegionMapping = map[string]string{"eu-central-1": "eu-west"}
		c.Spec.LogLevel = "debug"
	})
	sts := buildStatefulSet(c, c.Spec.Regions[0], "hash")
	pod := sts.Spec.Template.Spec
	ctr := pod.Containers[0]
	secrets := map[string]string{
		c.ClusterSecret().Name + "/" + c.ClusterSecret().Key: "generated-inter-node-secret-0123456789",
		"control-db/dsn": "postgres://control",
	}
	fields := map[string]string{"metadata.name": "rt-eu-west-0", "metadata.namespace": "ns", "status.podIP": "10.1.2.3"}
	env := map[string]string{}
	for _, e := range ctr.Env {
		if !nc.Known(e.Name) {
			t.Errorf("the operator sets %s, which the node never reads", e.Name)
		}
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil:
			v, ok := fields[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				t.Fatalf("%s: unexpected field %s", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			env[e.Name] = v
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := secrets[ref.Name+"/"+ref.Key]
			if !ok {
				t.Fatalf("%s: unexpected secret %s/%s", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		}
	}
	cfg, err := nc.Load(ctr.Args, func(k string) string { return env[k] }, time.Second)
	if err != nil {
		t.Fatalf("the node rejects the operator's environment: %v", err)
	}
	if cfg.NodeName != "rt-eu-west-0" || cfg.Namespace != "ns" || cfg.Region != "eu-west" || cfg.LogLevel != "debug" ||
		cfg.TenantSource != "kubernetes" || cfg.Cluster.Name != "rt" {
		t.Errorf("identity: %+v", cfg)
	}
	if cfg.Cluster.Mode != "postgres" || cfg.Cluster.DSN != "postgres://control" || cfg.Cluster.Addr != "10.1.2.3:4001" ||
		cfg.Cluster.Secret != "generated-inter-node-secret-0123456789" || cfg.Cluster.DNSName != "rt-nodes.ns.svc" {
		t.Errorf("cluster: %+v", cfg.Cluster)
	}
	if cfg.RegionMapping["eu-central-1"] != "eu-west" {
		t.Errorf("region mapping %v", cfg.RegionMapping)
	}
	if !cfg.TLS.Enabled() || !strings.HasPrefix(cfg.TLS.Cert, ctr.VolumeMounts[0].MountPath) {
		t.Errorf("tls %+v mounts %+v", cfg.TLS, ctr.VolumeMounts)
	}
	// The ports the pod declares (probes, Services) are the ones the node listens on.
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if got := portOf(t, cfg.Addr); got != ports[httpPortName] || ctr.ReadinessProbe.HTTPGet.Port.StrVal != httpPortName {
		t.Errorf("node listens on %s, pod declares http=%d", cfg.Addr, ports[httpPortName])
	}
	if got := portOf(t, cfg.AdminAddr); got != ports[adminPortName] || sts.Spec.Template.Annotations["prometheus.io/port"] != strconv.Itoa(int(got)) {
		t.Errorf("admin on %s, pod declares admin=%d, scrape annotations %v", cfg.AdminAddr, ports[adminPortName], sts.Spec.Template.Annotations)
	}
	if got := portOf(t, cfg.Cluster.Addr); got != ports[clusterPortName] {
		t.Errorf("links on %s, pod declares cluster=%d", cfg.Cluster.Addr, ports[clusterPortName])
	}
	// The drain fits inside the grace period, with room for the HTTP shutdown and the exit.
	if grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; cfg.DrainWindow <= 0 || cfg.DrainWindow+10*time.Second > grace {
		t.Errorf("drain window %s does not fit the grace period %s", cfg.DrainWindow, grace)
	}
}

func portOf(t *testing.T, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, _ := strconv.Atoi(p)
	return int32(n)
}

// The cluster secret is wired even without spec.clusterSecretRef (the generated Secret).
func TestNodeEnvClusterSecretAlwaysSet(t *testing.T) {
	c := builderCluster(nil)
	env := envMap(nodeEnv(c, "eu-west"))
	if env[nc.EnvClusterSecret] != "secret:rt-cluster-secret/secret" {
		t.Fatalf("CLUSTER_SECRET = %q", env[nc.EnvClusterSecret])
	}
}
