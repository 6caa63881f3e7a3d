package v1alpha1

import corev1 "k8s.io/api/core/v1"

// Default values, mirrored by the +kubebuilder:default markers (the apiserver applies those;
// Default applies them in Go so objects built in code or read from older versions agree).
const (
	DefaultTopologyLabel = "topology.kubernetes.io/region"
	DefaultZoneLabel     = "topology.kubernetes.io/zone"
	DefaultLogLevel      = "info"
)

// Default fills the unset fields of the spec with their defaults.
func (c *RealtimeCluster) Default() {
	s := &c.Spec
	if s.ImagePullPolicy == "" {
		s.ImagePullPolicy = corev1.PullIfNotPresent
	}
	if s.Discovery.Mode == "" {
		s.Discovery.Mode = DiscoveryDNS
	}
	if s.Service.Type == "" {
		s.Service.Type = corev1.ServiceTypeClusterIP
	}
	if s.Service.Port == 0 {
		s.Service.Port = NodePort
	}
	if s.LogLevel == "" {
		s.LogLevel = DefaultLogLevel
	}
	if s.Metrics.Enabled == nil {
		s.Metrics.Enabled = ptrTo(true)
	}
	for i := range s.Regions {
		r := &s.Regions[i]
		if r.TopologyLabel == "" {
			r.TopologyLabel = DefaultTopologyLabel
		}
		if r.ZoneSpread == nil {
			r.ZoneSpread = ptrTo(true)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
