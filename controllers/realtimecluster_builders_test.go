package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

func builderCluster(mut func(*realtimev1.RealtimeCluster)) *realtimev1.RealtimeCluster {
	c := &realtimev1.RealtimeCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "rt", Namespace: "ns"},
		Spec: realtimev1.RealtimeClusterSpec{
			Image:   "node:1",
			Regions: []realtimev1.RegionSpec{{Name: "eu-west", Replicas: 3}},
		},
	}
	if mut != nil {
		mut(c)
	}
	c.Default()
	return c
}

func TestBuildStatefulSet(t *testing.T) {
	f := false
	tests := []struct {
		name  string
		mut   func(*realtimev1.RealtimeCluster)
		check func(*testing.T, *realtimev1.RealtimeCluster, corev1.PodSpec, map[string]string)
	}{
		{"defaults pin by topology label and spread zones", nil, func(t *testing.T, c *realtimev1.RealtimeCluster, p corev1.PodSpec, env map[string]string) {
			term := p.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
			if term.Key != realtimev1.DefaultTopologyLabel || term.Values[0] != "eu-west" || p.NodeSelector != nil {
				t.Errorf("pinning %+v nodeSelector %v", term, p.NodeSelector)
			}
			if len(p.TopologySpreadConstraints) != 1 || p.TopologySpreadConstraints[0].WhenUnsatisfiable != corev1.ScheduleAnyway {
				t.Errorf("spread %+v", p.TopologySpreadConstraints)
			}
			if env["DISCOVERY_MODE"] != "dns" || env["DISCOVERY_DNS_NAME"] != "rt-nodes.ns.svc" || env["LOG_LEVEL"] != "info" {
				t.Errorf("env %v", env)
			}
			if _, ok := env["REGION_MAPPING"]; ok {
				t.Errorf("REGION_MAPPING without mapping")
			}
			if *p.TerminationGracePeriodSeconds != 60 || p.ServiceAccountName != "rt-node" {
				t.Errorf("grace %d sa %s", *p.TerminationGracePeriodSeconds, p.ServiceAccountName)
			}
		}},
		{"nodeSelector replaces affinity pinning, custom label ignored", func(c *realtimev1.RealtimeCluster) {
			c.Spec.Regions[0].NodeSelector = map[string]string{"pool": "eu"}
			c.Spec.Regions[0].ZoneSpread = &f
		}, func(t *testing.T, _ *realtimev1.RealtimeCluster, p corev1.PodSpec, _ map[string]string) {
			if p.NodeSelector["pool"] != "eu" || p.Affinity.NodeAffinity != nil || p.TopologySpreadConstraints != nil {
				t.Errorf("nodeSelector %v nodeAffinity %+v spread %+v", p.NodeSelector, p.Affinity.NodeAffinity, p.TopologySpreadConstraints)
			}
			if p.Affinity.PodAntiAffinity == nil {
				t.Error("anti-affinity must stay with a nodeSelector")
			}
		}},
		{"custom topology label", func(c *realtimev1.RealtimeCluster) {
			c.Spec.Regions[0].TopologyLabel = "example.com/region"
		}, func(t *testing.T, _ *realtimev1.RealtimeCluster, p corev1.PodSpec, _ map[string]string) {
			if k := p.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key; k != "example.com/region" {
				t.Errorf("key %s", k)
			}
		}},
		{"postgres discovery, TLS, mapping, overrides", func(c *realtimev1.RealtimeCluster) {
			c.Spec.Discovery = realtimev1.DiscoverySpec{Mode: realtimev1.DiscoveryPostgres, Postgres: &realtimev1.PostgresDiscoverySpec{
				SecretRef: realtimev1.SecretKeySelector{Name: "ctl", Key: "dsn"}}}
			c.Spec.TLS = &realtimev1.TLSSpec{SecretRef: realtimev1.LocalObjectReference{Name: "cert"}}
			c.Spec.RegionMapping = map[string]string{"us-east-1": "eu-west", "eu-central-1": "eu-west"}
			c.Spec.PodTemplate = realtimev1.PodTemplateOverrides{
				Labels:            map[string]string{"team": "rt", realtimev1.ClusterLabel: "hijack"},
				Tolerations:       []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
				PriorityClassName: "high",
				Env:               []corev1.EnvVar{{Name: "EXTRA", Value: "1"}},
			}
		}, func(t *testing.T, _ *realtimev1.RealtimeCluster, p corev1.PodSpec, env map[string]string) {
			if env["DISCOVERY_POSTGRES_DSN"] != "secret:ctl/dsn" || env["TLS_CERT_FILE"] == "" || env["EXTRA"] != "1" {
				t.Errorf("env %v", env)
			}
			if env["REGION_MAPPING"] != `{"eu-central-1":"eu-west","us-east-1":"eu-west"}` {
				t.Errorf("REGION_MAPPING %s", env["REGION_MAPPING"])
			}
			if p.Containers[0].ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS || p.Volumes[0].Secret.SecretName != "cert" {
				t.Errorf("TLS not wired: %+v %+v", p.Containers[0].ReadinessProbe.HTTPGet, p.Volumes)
			}
			if p.PriorityClassName != "high" || len(p.Tolerations) != 1 {
				t.Errorf("overrides %s %v", p.PriorityClassName, p.Tolerations)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := builderCluster(tt.mut)
			sts := buildStatefulSet(c, c.Spec.Regions[0], "")
			if sts.Name != "rt-eu-west" || *sts.Spec.Replicas != 3 || sts.Spec.ServiceName != "rt-nodes" {
				t.Fatalf("sts %s replicas %d service %s", sts.Name, *sts.Spec.Replicas, sts.Spec.ServiceName)
			}
			tl := sts.Spec.Template.Labels
			for k, v := range sts.Spec.Selector.MatchLabels {
				if tl[k] != v {
					t.Fatalf("template label %s=%q does not match selector %q", k, tl[k], v)
				}
			}
			tt.check(t, c, sts.Spec.Template.Spec, envMap(sts.Spec.Template.Spec.Containers[0].Env))
		})
	}
}

func TestBuildPDBAndServices(t *testing.T) {
	c := builderCluster(func(c *realtimev1.RealtimeCluster) {
		c.Spec.Service = realtimev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Port: 443,
			Annotations: map[string]string{"lb": "internal"}}
	})
	pdb := buildPDB(c, c.Spec.Regions[0])
	if pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil || *pdb.Spec.UnhealthyPodEvictionPolicy != "AlwaysAllow" {
		t.Errorf("pdb %+v", pdb.Spec)
	}
	svc := buildClientService(c)
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.Ports[0].Port != 443 ||
		svc.Spec.Ports[0].TargetPort.StrVal != "http" || svc.Annotations["lb"] != "internal" {
		t.Errorf("client service %+v", svc)
	}
	h := buildHeadlessService(c)
	if h.Spec.ClusterIP != corev1.ClusterIPNone || !h.Spec.PublishNotReadyAddresses || h.Spec.Selector[realtimev1.RegionLabel] != "" {
		t.Errorf("headless %+v", h.Spec)
	}
	role := buildNodeRole(c)
	for _, rule := range role.Rules {
		for _, v := range rule.Verbs {
			if v == "delete" || v == "*" || v == "patch" {
				t.Errorf("node role grants %s on %v", v, rule.Resources)
			}
		}
	}
}

// Prometheus must scrape with the scheme the node serves /metrics with.
func TestScrapeAnnotations(t *testing.T) {
	tests := []struct {
		name   string
		tls    bool
		scheme string
	}{{"plain", false, "http"}, {"tls", true, "https"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := builderCluster(func(c *realtimev1.RealtimeCluster) {
				if tt.tls {
					c.Spec.TLS = &realtimev1.TLSSpec{SecretRef: realtimev1.LocalObjectReference{Name: "cert"}}
				}
			})
			a := buildStatefulSet(c, c.Spec.Regions[0], "").Spec.Template.Annotations
			if a["prometheus.io/scrape"] != "true" || a["prometheus.io/scheme"] != tt.scheme || a["prometheus.io/path"] != "/metrics" ||
				a["prometheus.io/port"] != "4002" {
				t.Fatalf("annotations %v", a)
			}
		})
	}
}

// The client Service (the internet side) carries only the client port: never admin or links.
func TestClientServiceExposesOnlyTheClientPort(t *testing.T) {
	svc := buildClientService(builderCluster(nil))
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.StrVal != httpPortName {
		t.Fatalf("client service ports %+v", svc.Spec.Ports)
	}
}

func TestPodTemplateDefaults(t *testing.T) {
	c := builderCluster(nil)
	p := buildStatefulSet(c, c.Spec.Regions[0], "").Spec.Template.Spec
	ctr := p.Containers[0]
	if ctr.Resources.Requests.Cpu().String() != "250m" || ctr.Resources.Requests.Memory().String() != "256Mi" ||
		ctr.Resources.Limits.Memory().String() != "1Gi" || !ctr.Resources.Limits.Cpu().IsZero() {
		t.Errorf("default resources %+v", ctr.Resources)
	}
	sc := ctr.SecurityContext
	if !*p.SecurityContext.RunAsNonRoot || p.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
		*sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("security context %+v / %+v", p.SecurityContext, sc)
	}
	if h := ctr.Lifecycle.PreStop.HTTPGet; h.Path != "/drain" || h.Port.StrVal != adminPortName {
		t.Errorf("preStop %+v", h)
	}
	if len(p.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("anti-affinity not required by default: %+v", p.Affinity.PodAntiAffinity)
	}
	c = builderCluster(func(c *realtimev1.RealtimeCluster) {
		c.Spec.PodTemplate.AntiAffinity = realtimev1.AntiAffinityPreferred
		c.Spec.Regions[0].Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}
	})
	p = buildStatefulSet(c, c.Spec.Regions[0], "").Spec.Template.Spec
	aa := p.Affinity.PodAntiAffinity
	if len(aa.RequiredDuringSchedulingIgnoredDuringExecution) != 0 || len(aa.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		aa.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != hostnameTopologyKey {
		t.Errorf("preferred anti-affinity %+v", aa)
	}
	if r := p.Containers[0].Resources; r.Requests.Cpu().String() != "2" || len(r.Limits) != 0 {
		t.Errorf("given resources replaced: %+v", r)
	}
}
