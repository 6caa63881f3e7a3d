package controllers

import (
	"encoding/json"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	nc "github.com/realtimeops/realtime/node/nodeconfig"
)

// Paths where the TLS Secret is mounted in node pods.
const (
	tlsMountPath = "/etc/realtime/tls"
	tlsVolume    = "tls"
)

// nodeEnv is the environment of the node container. The names and their meaning are the node's
// configuration contract (node/nodeconfig), which parses exactly this in TestNodeEnvContract;
// user env from podTemplate.env comes last.
func nodeEnv(c *realtimev1.RealtimeCluster, region string) []corev1.EnvVar {
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path},
		}}
	}
	secret := func(name string, ref realtimev1.SecretKeySelector) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}, Key: ref.Key,
			},
		}}
	}
	env := []corev1.EnvVar{
		{Name: nc.EnvRegion, Value: region},
		field(nc.EnvPodName, "metadata.name"),
		field(nc.EnvPodIP, "status.podIP"),
		field(nc.EnvNamespace, "metadata.namespace"),
		{Name: nc.EnvClusterName, Value: c.Name},
		{Name: nc.EnvAddr, Value: listenAddr(realtimev1.NodePort)},
		{Name: nc.EnvAdminAddr, Value: listenAddr(realtimev1.AdminPort)},
		{Name: nc.EnvDrainWindow, Value: drainWindow(c).String()},
		{Name: nc.EnvLogLevel, Value: c.Spec.LogLevel},
		{Name: nc.EnvTenantSource, Value: "kubernetes"},
		{Name: nc.EnvDiscoveryMode, Value: string(c.Spec.Discovery.Mode)},
		{Name: nc.EnvDiscoveryDNSName, Value: c.DiscoveryDNSName()},
	}
	if m := c.Spec.RegionMapping; len(m) > 0 {
		b, _ := json.Marshal(m) // map keys are sorted: the env is stable across reconciles
		env = append(env, corev1.EnvVar{Name: nc.EnvRegionMapping, Value: string(b)})
	}
	if p := c.Spec.Discovery.Postgres; p != nil && c.Spec.Discovery.Mode == realtimev1.DiscoveryPostgres {
		env = append(env, secret(nc.EnvDiscoveryDSN, p.SecretRef))
	}
	// Always set: the nodes always form a cluster, so without a secret they would not start; the
	// operator generates the Secret when spec.clusterSecretRef is unset.
	env = append(env, secret(nc.EnvClusterSecret, c.ClusterSecret()))
	if i := c.Spec.Inspector; i != nil && i.Enabled {
		env = append(env, corev1.EnvVar{Name: nc.EnvInspector, Value: "true"})
		if i.AdminTokenSecretRef != nil {
			env = append(env, secret(nc.EnvInspectorAdminToken, *i.AdminTokenSecretRef))
		}
	}
	if c.Spec.TLS != nil {
		env = append(env,
			corev1.EnvVar{Name: nc.EnvTLSCertFile, Value: tlsMountPath + "/tls.crt"},
			corev1.EnvVar{Name: nc.EnvTLSKeyFile, Value: tlsMountPath + "/tls.key"})
	}
	return append(env, c.Spec.PodTemplate.Env...)
}

func listenAddr(port int32) string { return net.JoinHostPort("", strconv.Itoa(int(port))) }
