// Package kube is the node's Kubernetes tenant source: it reads the Tenant resources of its
// RealtimeCluster (spec.clusterRef.name == CLUSTER_NAME) in its namespace and the Secrets they
// reference through informers, resolves them with the same resolver as the tenants file
// (tenant.Resolve), and serves them as a tenant.Registry. It also exposes the operator's
// assignment of WAL work (status.replication.node) and holds the per-tenant fencing Leases
// (lease.go, contract in controllers/doc.go).
//
// One worker goroutine applies every change, so events reach subscribers in order and a
// subscriber may call Get; informer callbacks only enqueue keys.
//
// Wiring in the node (TENANT_SOURCE=kubernetes, set by the operator):
//
//	env := kube.Env{...}                          // NAMESPACE, CLUSTER_NAME, POD_NAME (nodeconfig)
//	rc, err := rest.InClusterConfig()
//	src, err := kube.NewForConfig(rc, env.Namespace, env.ClusterName, log)
//	go src.Run(ctx)                              // until ctx ends
//	err = src.WaitReady(ctx)                     // tenants present at start are published
//	leases := src.LeaseHolder(kubernetes.NewForConfigOrDie(rc), env.PodName, walStreaming)
//	go leases.Run(ctx)                           // releases every Lease when ctx ends
//	owned := src.OwnershipChanged()              // then: src.Owned(env.PodName), leases.Holds(name)
package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/realtimeops/realtime/node/tenant"
)

// TenantGVR is the resource of the Tenant custom resource (api/v1alpha1). The source reads it
// as unstructured objects so the node does not depend on the operator's Go types.
var TenantGVR = schema.GroupVersionResource{
	Group: "realtime.realtimeops.io", Version: "v1alpha1", Resource: "tenants",
}

// DefaultResync is the informers' resync period: a safety net only, every change arrives by watch.
const DefaultResync = 10 * time.Minute

// Config configures a Source.
type Config struct {
	// Namespace of the node pod; Tenants and Secrets are read from it only.
	Namespace string
	// ClusterName is the node's RealtimeCluster (env CLUSTER_NAME).
	ClusterName string
	// Dynamic reads Tenants; Kube reads Secrets.
	Dynamic dynamic.Interface
	Kube    kubernetes.Interface
	// Resync defaults to DefaultResync.
	Resync time.Duration
	Log    *slog.Logger
}

// Source is a tenant.Registry backed by Tenant resources and Secrets of one namespace.
type Source struct {
	cfg     Config
	log     *slog.Logger
	tenants cache.SharedIndexInformer
	secrets cache.SharedIndexInformer
	factory informers.SharedInformerFactory
	dynFac  dynamicinformer.DynamicSharedInformerFactory
	queue   workqueue.TypedInterface[key]
	ready   chan struct{}

	// Worker-only state: records by resource name, and Secret name -> resource names.
	records map[string]*record
	bySec   map[string]map[string]bool
	errs    map[string]string // last resolve error logged per resource, to log changes only

	mu         sync.RWMutex
	byExt      map[string]*tenant.Tenant
	byName     map[string]*tenant.Tenant // resource name -> published tenant
	ownerships map[string]ownership      // resource name -> assignment (all records)
	subs       []func(tenant.Event)
	owners     []chan struct{} // one coalescing channel per OwnershipChanged call
}

// ownership is the assignment of one Tenant resource's WAL work.
type ownership struct {
	externalID string
	owner      string
	needsOwner bool
}

type key struct {
	kind string // "tenant" or "secret"
	name string
}

var _ tenant.Registry = (*Source)(nil)

// NewForConfig builds the clients from a rest config (in a pod: rest.InClusterConfig()).
func NewForConfig(rc *rest.Config, namespace, clusterName string, log *slog.Logger) (*Source, error) {
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("tenant source: dynamic client: %w", err)
	}
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("tenant source: kubernetes client: %w", err)
	}
	return New(Config{Namespace: namespace, ClusterName: clusterName, Dynamic: dyn, Kube: kc, Log: log})
}

// New prepares the informers; nothing is read until Run.
func New(cfg Config) (*Source, error) {
	if cfg.Namespace == "" || cfg.ClusterName == "" {
		return nil, errors.New("tenant source: namespace and cluster name are required")
	}
	if cfg.Dynamic == nil || cfg.Kube == nil {
		return nil, errors.New("tenant source: clients are required")
	}
	if cfg.Resync <= 0 {
		cfg.Resync = DefaultResync
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Source{
		cfg: cfg, log: cfg.Log.With("component", "tenant-source", "namespace", cfg.Namespace),
		queue: workqueue.NewTyped[key](), ready: make(chan struct{}),
		records: map[string]*record{}, bySec: map[string]map[string]bool{}, errs: map[string]string{},
		byExt: map[string]*tenant.Tenant{}, byName: map[string]*tenant.Tenant{}, ownerships: map[string]ownership{},
	}
	s.dynFac = dynamicinformer.NewFilteredDynamicSharedInformerFactory(cfg.Dynamic, cfg.Resync, cfg.Namespace, nil)
	s.tenants = s.dynFac.ForResource(TenantGVR).Informer()
	s.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Kube, cfg.Resync, informers.WithNamespace(cfg.Namespace))
	s.secrets = s.factory.Core().V1().Secrets().Informer()
	if err := s.tenants.SetTransform(stripManagedFields); err != nil {
		return nil, fmt.Errorf("tenant source: tenant transform: %w", err)
	}
	if err := s.secrets.SetTransform(slimSecret); err != nil {
		return nil, fmt.Errorf("tenant source: secret transform: %w", err)
	}
	if _, err := s.tenants.AddEventHandler(s.handler("tenant")); err != nil {
		return nil, fmt.Errorf("tenant source: tenant handler: %w", err)
	}
	if _, err := s.secrets.AddEventHandler(s.handler("secret")); err != nil {
		return nil, fmt.Errorf("tenant source: secret handler: %w", err)
	}
	return s, nil
}

// handler enqueues the name of every added, changed or deleted object of one kind.
func (s *Source) handler(kind string) cache.ResourceEventHandler {
	enqueue := func(obj any) {
		k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err != nil {
			s.log.Error("tenant source: object without key", "kind", kind, "err", err)
			return
		}
		_, name, _ := cache.SplitMetaNamespaceKey(k)
		s.queue.Add(key{kind: kind, name: name})
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}
}

// Run starts the informers and applies changes until ctx ends. Tenants present at start are
// published (and announced to subscribers) before Ready is closed.
func (s *Source) Run(ctx context.Context) error {
	defer s.queue.ShutDown()
	s.dynFac.Start(ctx.Done())
	s.factory.Start(ctx.Done())
	defer s.dynFac.Shutdown()
	defer s.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), s.tenants.HasSynced, s.secrets.HasSynced) {
		return fmt.Errorf("tenant source: caches not synced: %w", context.Cause(ctx))
	}
	// The initial pass publishes every tenant at once; the keys the handlers queued meanwhile
	// are processed again by the worker and change nothing.
	for _, name := range s.tenants.GetStore().ListKeys() {
		_, n, _ := cache.SplitMetaNamespaceKey(name)
		s.syncTenant(n)
	}
	close(s.ready)
	s.log.Info("tenant source synced", "cluster", s.cfg.ClusterName, "tenants", s.count())
	go func() {
		<-ctx.Done()
		s.queue.ShutDown()
	}()
	for s.processNext() {
	}
	return nil
}

// Ready is closed once the initial list of Tenants and Secrets has been applied.
func (s *Source) Ready() <-chan struct{} { return s.ready }

// WaitReady blocks until Ready or ctx ends.
func (s *Source) WaitReady(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tenant source not ready: %w", context.Cause(ctx))
	}
}

func (s *Source) processNext() bool {
	k, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(k)
	switch k.kind {
	case "tenant":
		s.syncTenant(k.name)
	case "secret":
		// A Secret change re-resolves every tenant referencing it, including unresolved ones
		// waiting for the Secret to appear.
		names := make([]string, 0, len(s.bySec[k.name]))
		for n := range s.bySec[k.name] {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			s.syncTenant(n)
		}
	}
	return true
}

// Get returns the tenant with the given external id.
func (s *Source) Get(externalID string) (*tenant.Tenant, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.byExt[externalID]
	return t, ok
}

// All returns every published tenant, ordered by external id.
func (s *Source) All() []*tenant.Tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*tenant.Tenant, 0, len(s.byExt))
	for _, t := range s.byExt {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *tenant.Tenant) int { return cmp.Compare(a.ExternalID, b.ExternalID) })
	return out
}

// Subscribe registers fn for every later change. fn runs on the source's worker goroutine and
// must not block; it may call Get.
func (s *Source) Subscribe(fn func(tenant.Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
}

func (s *Source) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byExt)
}

// stripManagedFields is the informers' transform: managedFields are never read here and can
// be most of an object's size.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// slimSecret also drops the data of Secret types that never hold a tenant's keys: Helm
// release records (often the largest objects of a namespace) and service account tokens.
func slimSecret(obj any) (any, error) {
	if s, ok := obj.(*corev1.Secret); ok {
		switch s.Type {
		case "helm.sh/release.v1", corev1.SecretTypeServiceAccountToken:
			s.Data = nil
		}
	}
	return stripManagedFields(obj)
}
