package controllers

import (
	"encoding/json"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// Paths where the TLS Secret is mounted in node pods.
const (
	tlsMountPath = "/etc/realtime/tls"
	tlsVolume    = "tls"
)

// nodeEnv is the environment contract between the operator and the realtime node. The node reads
// these variables in Kubernetes mode; user env from podTemplate.env comes last.
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
		{Name: "REGION", Value: region},
		field("POD_NAME", "metadata.name"),
		field("POD_IP", "status.podIP"),
		field("NAMESPACE", "metadata.namespace"),
		{Name: "CLUSTER_NAME", Value: c.Name},
		{Name: "PORT", Value: strconv.Itoa(int(realtimev1.NodePort))},
		{Name: "LOG_LEVEL", Value: c.Spec.LogLevel},
		{Name: "TENANT_SOURCE", Value: "kubernetes"},
		{Name: "DISCOVERY_MODE", Value: string(c.Spec.Discovery.Mode)},
		{Name: "DISCOVERY_DNS_NAME", Value: c.DiscoveryDNSName()},
		{Name: "METRICS_ENABLED", Value: strconv.FormatBool(c.MetricsEnabled())},
	}
	if m := c.Spec.RegionMapping; len(m) > 0 {
		b, _ := json.Marshal(m) // map keys are sorted: the env is stable across reconciles
		env = append(env, corev1.EnvVar{Name: "REGION_MAPPING", Value: string(b)})
	}
	if p := c.Spec.Discovery.Postgres; p != nil && c.Spec.Discovery.Mode == realtimev1.DiscoveryPostgres {
		env = append(env, secret("DISCOVERY_POSTGRES_DSN", p.SecretRef))
	}
	if ref := c.Spec.ClusterSecretRef; ref != nil {
		env = append(env, secret("CLUSTER_SECRET", *ref))
	}
	if c.Spec.TLS != nil {
		env = append(env,
			corev1.EnvVar{Name: "TLS_CERT_FILE", Value: tlsMountPath + "/tls.crt"},
			corev1.EnvVar{Name: "TLS_KEY_FILE", Value: tlsMountPath + "/tls.key"})
	}
	return append(env, c.Spec.PodTemplate.Env...)
}
