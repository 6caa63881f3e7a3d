package controllers

import (
	"fmt"
	"strings"
	"time"

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
		NodeImage: o.NodeImage,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("realtimecluster controller: %w", err)
	}
	if err := (&TenantReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("tenant-controller"),
		SlotDropTimeout: o.SlotDropTimeout, HealthInterval: o.HealthInterval,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("tenant controller: %w", err)
	}
	return nil
}

// CacheOptions restricts the informers: only node pods (those with the cluster label) are cached,
// and with watchNamespaces (comma-separated) only those namespaces are watched.
func CacheOptions(watchNamespaces string) cache.Options {
	req, _ := labels.NewRequirement(realtimev1.ClusterLabel, selection.Exists, nil)
	opts := cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.Pod{}: {Label: labels.NewSelector().Add(*req)},
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
