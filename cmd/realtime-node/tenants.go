package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/rtt"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenant/kube"
)

// tenantSource is where tenants come from and who decides which tenants' WAL this node streams.
type tenantSource struct {
	registry tenant.Registry
	owner    changes.Owner
	runners  []runner
	// bind gives the source the changes service once it exists (Lease release waits for streams).
	bind func(*changes.Service)
	// publishRTT, with the Kubernetes source, writes the pod's RTT Lease for the operator.
	publishRTT func(map[string]rtt.Figure)
}

func newTenantSource(cfg config, log *slog.Logger) (*tenantSource, error) {
	switch cfg.TenantSource {
	case "file", "":
		fs, err := tenant.NewFileSource(cfg.TenantsFile, log)
		if err != nil {
			return nil, fmt.Errorf("tenants: %w", err)
		}
		return &tenantSource{registry: fs, owner: changes.AlwaysOwner{}, runners: []runner{fs.Run}}, nil
	case "kubernetes", "kube":
		return newKubeSource(kube.Env{Namespace: cfg.Namespace, ClusterName: cfg.Cluster.Name, PodName: cfg.NodeName}, log)
	}
	return nil, fmt.Errorf("unknown tenant source %q (want file or kubernetes)", cfg.TenantSource)
}

// newKubeSource reads the Tenants of this pod's RealtimeCluster and streams the WAL of the tenants
// the operator assigned to this pod, while this pod holds their fencing Leases.
func newKubeSource(env kube.Env, log *slog.Logger) (*tenantSource, error) {
	rc, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes config: %w", err)
	}
	rc.QPS, rc.Burst = 50, 100 // one Lease renewal per owned tenant every few seconds
	src, err := kube.NewForConfig(rc, env.Namespace, env.ClusterName, log)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	owner := &kubeOwner{src: src, pod: env.PodName, changed: make(chan struct{}, 1)}
	owner.leases = src.LeaseHolder(client, env.PodName, owner.streaming)
	start := func(ctx context.Context) error {
		if err := src.WaitReady(ctx); err != nil {
			return err
		}
		return nil
	}
	return &tenantSource{registry: src, owner: owner, bind: func(c *changes.Service) { owner.cdc.Store(c) },
		publishRTT: src.RTTPublisher(client, env.PodName).Publish, runners: []runner{
			src.Run,
			start,
			owner.leases.Run,
			owner.relay,
		}}, nil
}

// kubeOwner owns a tenant's WAL when the operator assigned it to this pod and the pod holds the
// tenant's Lease (fencing: the operator reassigns only after the Lease expired).
type kubeOwner struct {
	src     *kube.Source
	pod     string
	leases  *kube.LeaseHolder
	changed chan struct{}
	cdc     atomic.Pointer[changes.Service]
}

func (o *kubeOwner) Owns(externalID string) bool {
	t, ok := o.src.Get(externalID)
	if !ok || !slices.Contains(o.src.Owned(o.pod), externalID) {
		return false
	}
	return o.leases.Holds(t.Name)
}

func (o *kubeOwner) Changes() <-chan struct{} { return o.changed }

// streaming lists the tenants (resource names) whose stream still runs on this node; their Leases
// are kept until the stream stopped, so a new owner never starts while this one reads the slot.
func (o *kubeOwner) streaming() []string {
	cdc := o.cdc.Load()
	if cdc == nil {
		return nil
	}
	var names []string
	for _, st := range cdc.Status() {
		if !st.Owned {
			continue
		}
		if t, ok := o.src.Get(st.Tenant); ok {
			names = append(names, t.Name)
		}
	}
	return names
}

// relay merges assignment and Lease changes into the one channel the changes service watches.
func (o *kubeOwner) relay(ctx context.Context) error {
	assigned := o.src.OwnershipChanged()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-assigned:
			o.leases.Kick()
		case <-o.leases.Changed():
		}
		select {
		case o.changed <- struct{}{}:
		default:
		}
	}
}
