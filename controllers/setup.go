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

// Setup registers both reconcilers with the manager, with their event recorders. The operator's
// main and the envtest suite use it, so tests run the controllers as shipped.
func Setup(mgr ctrl.Manager, slotDropTimeout time.Duration) error {
	if err := (&RealtimeClusterReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("realtimecluster-controller"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("realtimecluster controller: %w", err)
	}
	if err := (&TenantReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("tenant-controller"),
		SlotDropTimeout: slotDropTimeout,
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
