package v1alpha1

import corev1 "k8s.io/api/core/v1"

// Default values, mirrored by the +kubebuilder:default markers (the apiserver applies those;
// Default applies them in Go so objects built in code or read from older versions agree).
const (
	DefaultTopologyLabel = "topology.kubernetes.io/region"
	DefaultZoneLabel     = "topology.kubernetes.io/zone"
	DefaultLogLevel      = "info"
	// DefaultNodeImageRepository is the node image the operator runs when spec.image is unset,
	// tagged with Version.
	DefaultNodeImageRepository = "ghcr.io/realtimeops/realtime-node"
)

// Version is the release of the operator and of the node image it defaults to; it equals the
// chart's appVersion (checked by a test) and is overridden at link time for other builds
// (-ldflags "-X github.com/realtimeops/realtime/api/v1alpha1.Version=...").
var Version = "0.1.0"

// DefaultNodeImage is the node image of this release.
func DefaultNodeImage() string { return DefaultNodeImageRepository + ":" + Version }

// DefaultWithImage is Default, with image as the node image when spec.image is unset.
func (c *RealtimeCluster) DefaultWithImage(image string) {
	if c.Spec.Image == "" {
		c.Spec.Image = image
	}
	c.Default()
}

// Default fills the unset fields of the spec with their defaults.
func (c *RealtimeCluster) Default() {
	s := &c.Spec
	if s.Image == "" {
		s.Image = DefaultNodeImage()
	}
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
	if s.PodTemplate.AntiAffinity == "" {
		s.PodTemplate.AntiAffinity = AntiAffinityRequired
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
