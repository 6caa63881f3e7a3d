package controllers

import (
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// Options of the controllers.
type Options struct {
	// SlotDropTimeout bounds the finalizer's slot drop (DefaultSlotDropTimeout when 0).
	SlotDropTimeout time.Duration
	// NodeImage is the node image of clusters without spec.image (this release's when empty).
	NodeImage string
	// HealthInterval is how often tenant databases are checked (DefaultHealthInterval when 0).
	HealthInterval time.Duration
	// ClientsInterval is how often the node pods' client counts are read
	// (DefaultClientsInterval when 0; negative: never).
	ClientsInterval time.Duration
	// AdminPort is the node pods' admin port the counts are read from (v1alpha1.AdminPort when
	// 0; tests serve /status elsewhere).
	AdminPort int32
}

// Setup registers both reconcilers with the manager, with their event recorders.
func Setup(mgr ctrl.Manager, slotDropTimeout time.Duration) error {
	return SetupWithOptions(mgr, Options{SlotDropTimeout: slotDropTimeout})
}

// SetupWithOptions is Setup with every option. The operator's main and the envtest suite use
// it, so tests run the controllers as shipped.
func SetupWithOptions(mgr ctrl.Manager, o Options) error {
	if err := (&RealtimeClusterReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("realtimecluster-controller"),
		NodeImage: o.NodeImage, APIReader: mgr.GetAPIReader(),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("realtimecluster controller: %w", err)
	}
	if err := (&TenantReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("tenant-controller"), APIReader: mgr.GetAPIReader(),
		SlotDropTimeout: o.SlotDropTimeout, HealthInterval: o.HealthInterval,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("tenant controller: %w", err)
	}
	if o.ClientsInterval >= 0 {
		counter := &clientsCounter{Client: mgr.GetClient(), Interval: o.ClientsInterval, Port: o.AdminPort}
		if err := mgr.Add(counter); err != nil {
			return fmt.Errorf("clients counter: %w", err)
		}
	}
	return nil
}

// CacheOptions restricts the informers: only node pods and tenant and node-pod Leases (both carry
// the cluster label; nodes label the Leases they create) are cached, so neither every pod of the
// cluster nor every kubelet's node Lease renewal reaches the operator, and only the Secrets
// labelled WatchedSecretLabel (those a RealtimeCluster or Tenant references: the operator labels
// them on first read, see secretReader), so the users' other Secrets never sit in its memory;
// with watchNamespaces (comma-separated) only those namespaces are watched.
func CacheOptions(watchNamespaces string) cache.Options {
	req, _ := labels.NewRequirement(realtimev1.ClusterLabel, selection.Exists, nil)
	ours := labels.NewSelector().Add(*req)
	watched := labels.SelectorFromSet(labels.Set{WatchedSecretLabel: "true"})
	opts := cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.Pod{}:           {Label: ours},
		&coordinationv1.Lease{}: {Label: ours},
		&corev1.Secret{}:        {Label: watched},
	}}
	for _, ns := range strings.Split(watchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			if opts.DefaultNamespaces == nil {
				opts.DefaultNamespaces = map[string]cache.Config{}
			}
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}
