package controllers

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

const (
	nodeContainer        = "node"
	httpPortName         = "http"
	clusterPortName      = "cluster"
	adminPortName        = "admin"
	hostnameTopologyKey  = "kubernetes.io/hostname"
	defaultGracePeriod   = int64(60)
	statefulSetMinReadyS = 5
)

// buildStatefulSet builds the StatefulSet of one region (the cluster must be defaulted).
//
// Why a StatefulSet and not a Deployment: pod names are stable across restarts
// (<cluster>-<region>-<ordinal>), and they are the identities placement hashes on and Leases are
// held by, so a restarted pod gets its tenants back instead of reshuffling the region; the
// headless Service gives each pod a stable DNS name for inter-node links; and the RollingUpdate
// strategy replaces one pod at a time, highest ordinal first, waiting for the replacement to be
// Ready (+minReadySeconds) before the next one: the "one pod at a time, gated on readiness" the
// operator needs, with no partition to manage. OrderedReady pod management keeps scale-up to one
// new pod at a time as well; nodes hold no volumes, so nothing else is ordinal-bound.
func buildStatefulSet(c *realtimev1.RealtimeCluster, r realtimev1.RegionSpec, secretsHash string) *appsv1.StatefulSet {
	labels := c.RegionLabels(r.Name)
	return &appsv1.StatefulSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name: c.StatefulSetName(r.Name), Namespace: c.Namespace, Labels: withManagedBy(labels),
		},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr(r.Replicas),
			ServiceName:         c.HeadlessServiceName(),
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			MinReadySeconds:     statefulSetMinReadyS,
			Template:            buildPodTemplate(c, r, secretsHash),
		},
	}
}

func buildPodTemplate(c *realtimev1.RealtimeCluster, r realtimev1.RegionSpec, secretsHash string) corev1.PodTemplateSpec {
	o := c.Spec.PodTemplate
	labels := map[string]string{}
	for k, v := range o.Labels {
		labels[k] = v
	}
	for k, v := range c.RegionLabels(r.Name) { // the operator's labels win: they are selectors
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range o.Annotations {
		annotations[k] = v
	}
	if c.MetricsEnabled() {
		annotations["prometheus.io/scrape"] = "true"
		annotations["prometheus.io/scheme"] = "http"
		if c.Spec.TLS != nil {
			annotations["prometheus.io/scheme"] = "https" // the node serves /metrics with its certificate
		}
		annotations["prometheus.io/port"] = strconv.Itoa(int(realtimev1.AdminPort))
		annotations["prometheus.io/path"] = "/metrics"
	}
	if secretsHash != "" {
		annotations[SecretsHashAnnotation] = secretsHash
	}
	grace := ptr(gracePeriodSeconds(c))
	spec := corev1.PodSpec{
		ServiceAccountName:            c.NodeServiceAccountName(),
		TerminationGracePeriodSeconds: grace,
		ImagePullSecrets:              c.Spec.ImagePullSecrets,
		Tolerations:                   o.Tolerations,
		PriorityClassName:             o.PriorityClassName,
		NodeSelector:                  r.NodeSelector,
		Affinity:                      buildAffinity(c, r),
		TopologySpreadConstraints:     buildZoneSpread(c, r),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{buildNodeContainer(c, r)},
	}
	if c.Spec.TLS != nil {
		spec.Volumes = []corev1.Volume{{Name: tlsVolume, VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: c.Spec.TLS.SecretRef.Name},
		}}}
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
		Spec:       spec,
	}
}

// gracePeriodSeconds is podTemplate.terminationGracePeriodSeconds, 60 by default.
func gracePeriodSeconds(c *realtimev1.RealtimeCluster) int64 {
	if g := c.Spec.PodTemplate.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return defaultGracePeriod
}

// drainWindow is how long a stopping node spreads its client disconnects (DRAIN_WINDOW): a third
// of the grace period, at most 30 s, so the lease release, the HTTP shutdown (5 s) and the
// process exit always fit inside the grace period and the kubelet never has to SIGKILL.
func drainWindow(c *realtimev1.RealtimeCluster) time.Duration {
	d := time.Duration(gracePeriodSeconds(c)) * time.Second / 3
	return min(d, 30*time.Second).Truncate(time.Second)
}

// buildAffinity pins the pods to the region (unless a nodeSelector does) and keeps two node pods
// of the cluster off one host (required by default: losing a host must never take two owners of
// a region; preferred for clusters with fewer hosts than pods).
func buildAffinity(c *realtimev1.RealtimeCluster, r realtimev1.RegionSpec) *corev1.Affinity {
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: c.ClusterLabels()},
		TopologyKey:   hostnameTopologyKey,
	}
	a := &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term},
	}}
	if c.Spec.PodTemplate.AntiAffinity == realtimev1.AntiAffinityPreferred {
		a.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
			{Weight: 100, PodAffinityTerm: term},
		}}
	}
	if len(r.NodeSelector) == 0 {
		a.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: r.TopologyLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{r.Name},
			}}}},
		}}
	}
	return a
}

// buildZoneSpread spreads a region's pods over its zones. ScheduleAnyway: a region with fewer
// zones than pods must still run all its pods; hard anti-affinity already separates hosts.
func buildZoneSpread(c *realtimev1.RealtimeCluster, r realtimev1.RegionSpec) []corev1.TopologySpreadConstraint {
	if !r.ZoneSpreadEnabled() {
		return nil
	}
	return []corev1.TopologySpreadConstraint{{
		MaxSkew:           1,
		TopologyKey:       realtimev1.DefaultZoneLabel,
		WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector:     &metav1.LabelSelector{MatchLabels: c.RegionLabels(r.Name)},
	}}
}

func buildNodeContainer(c *realtimev1.RealtimeCluster, r realtimev1.RegionSpec) corev1.Container {
	scheme := corev1.URISchemeHTTP
	var mounts []corev1.VolumeMount
	if c.Spec.TLS != nil {
		scheme = corev1.URISchemeHTTPS
		mounts = []corev1.VolumeMount{{Name: tlsVolume, MountPath: tlsMountPath, ReadOnly: true}}
	}
	probe := func(path string, period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: path, Port: intstr.FromString(httpPortName), Scheme: scheme,
			}},
			PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: failures,
		}
	}
	return corev1.Container{
		Name:            nodeContainer,
		Image:           c.Spec.Image,
		ImagePullPolicy: c.Spec.ImagePullPolicy,
		Ports: []corev1.ContainerPort{
			{Name: httpPortName, ContainerPort: realtimev1.NodePort, Protocol: corev1.ProtocolTCP},
			// The inter-node link (node/cluster): authenticated with the cluster secret.
			{Name: clusterPortName, ContainerPort: realtimev1.ClusterPort, Protocol: corev1.ProtocolTCP},
			// /metrics and /status: never in the client Service, scraped by pod IP.
			{Name: adminPortName, ContainerPort: realtimev1.AdminPort, Protocol: corev1.ProtocolTCP},
		},
		Env:       nodeEnv(c, r.Name),
		Resources: nodeResources(r.Resources),
		// Startup allows 60 s for migrations and cluster join; readiness reacts within ~10 s so a
		// sick owner loses its tenants quickly; liveness restarts only a wedged process.
		StartupProbe:   probe("/healthz", 2, 30),
		ReadinessProbe: probe("/readyz", 5, 2),
		LivenessProbe:  probe("/healthz", 10, 3),
		// preStop starts the drain (readiness fails, joins are refused) before SIGTERM.
		Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/drain", Port: intstr.FromString(adminPortName), Scheme: scheme,
		}}},
		VolumeMounts: mounts,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr(false),
			ReadOnlyRootFilesystem:   ptr(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

// nodeResources is the region's resources, or the defaults when none are given.
func nodeResources(res corev1.ResourceRequirements) corev1.ResourceRequirements {
	if len(res.Requests) > 0 || len(res.Limits) > 0 {
		return res
	}
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
	}
}

// buildPDB allows one unavailable pod per region: with >= 2 replicas a voluntary disruption
// never empties a region, and AlwaysAllow lets drains evict pods that are already unhealthy, so
// the PDB never blocks a node drain.
func buildPDB(c *realtimev1.RealtimeCluster, r realtimev1.RegionSpec) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{
			Name: c.StatefulSetName(r.Name), Namespace: c.Namespace, Labels: withManagedBy(c.RegionLabels(r.Name)),
		},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable:             ptr(intstr.FromInt32(1)),
			Selector:                   &metav1.LabelSelector{MatchLabels: c.RegionLabels(r.Name)},
			UnhealthyPodEvictionPolicy: ptr(policyv1.AlwaysAllow),
		},
	}
}

// buildHeadlessService lists every node pod, ready or not, so nodes can find each other (and
// form the cluster) before they pass readiness.
func buildHeadlessService(c *realtimev1.RealtimeCluster) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name: c.HeadlessServiceName(), Namespace: c.Namespace, Labels: withManagedBy(c.ClusterLabels()),
		},
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 c.ClusterLabels(),
			Ports: []corev1.ServicePort{
				{Name: httpPortName, Port: realtimev1.NodePort, TargetPort: intstr.FromString(httpPortName), Protocol: corev1.ProtocolTCP},
				{Name: clusterPortName, Port: realtimev1.ClusterPort, TargetPort: intstr.FromString(clusterPortName), Protocol: corev1.ProtocolTCP},
			},
		},
	}
}

// buildClientService is what realtime-js connects to (WebSocket and REST), across regions.
func buildClientService(c *realtimev1.RealtimeCluster) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name: c.ClientServiceName(), Namespace: c.Namespace, Labels: withManagedBy(c.ClusterLabels()),
			Annotations: c.Spec.Service.Annotations,
		},
		Spec: corev1.ServiceSpec{
			Type:     c.Spec.Service.Type,
			Selector: c.ClusterLabels(),
			Ports: []corev1.ServicePort{{
				Name: httpPortName, Port: c.Spec.Service.Port, TargetPort: intstr.FromString(httpPortName),
				Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}
