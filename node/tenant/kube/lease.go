package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The fencing contract with the operator (controllers/doc.go): the owner of a tenant's WAL
// work holds the coordination.k8s.io/v1 Lease "tenant-<Tenant metadata.name>" in the tenant's
// namespace with holderIdentity = its pod name, renews it every leaseDurationSeconds/3, and
// releases it by setting holderIdentity to "". The operator reassigns the tenant once the
// Lease has been expired for spec.failoverDelay.
const (
	// LeasePrefix matches v1alpha1.LeasePrefix (the node does not import the operator's API).
	LeasePrefix = "tenant-"
	// DefaultLeaseDuration is spec.leaseDurationSeconds of the Leases the node writes.
	DefaultLeaseDuration = 15 * time.Second
	// ClusterLabel (v1alpha1.ClusterLabel) names the RealtimeCluster on the Leases nodes create.
	ClusterLabel = "realtime.realtimeops.io/cluster"
	// releaseTimeout bounds the release of every Lease when Run stops (SIGTERM handoff).
	releaseTimeout = 5 * time.Second
)

// LeaseName is the name of the fencing Lease of the Tenant resource named tenantName.
func LeaseName(tenantName string) string { return LeasePrefix + tenantName }

// LeaseHolder acquires, renews and releases the fencing Leases of one node pod.
//
// Contract for the caller: stream a tenant's slot only while Holds(name) is true, and keep
// listing a tenant in Tenants until its stream has stopped, so a Lease is never released
// while the old stream still runs.
//
// Each round writes one Lease per held tenant, so the client's rate limit (rest.Config QPS and
// Burst, 5 and 10 by default) must allow len(Tenants())/RenewInterval writes per second: for
// 100 tenants per pod and the default 5 s interval, QPS 20 or more.
type LeaseHolder struct {
	Client    kubernetes.Interface
	Namespace string
	// Identity is the holderIdentity written: the pod name (POD_NAME).
	Identity string
	// Tenants returns the Tenant resource names this pod must hold Leases for (for example
	// Source.OwnedNames(pod) plus the tenants still streaming).
	Tenants func() []string
	// Duration defaults to DefaultLeaseDuration; RenewInterval to Duration/3.
	Duration      time.Duration
	RenewInterval time.Duration
	// Labels are set on Leases this holder creates.
	Labels map[string]string
	// Trigger, when set, makes Run sync at once on every value (assignment changes).
	Trigger <-chan struct{}
	Log     *slog.Logger

	mu      sync.Mutex
	held    map[string]*heldLease // tenant name -> last written Lease
	kick    chan struct{}
	changed chan struct{}
	once    sync.Once
}

type heldLease struct {
	lease *coordinationv1.Lease
	// sent is when the last successful write was sent: a conservative start of its validity.
	sent time.Time
}

// RenewLeases holds the Leases of tenants() for podName until ctx ends, then releases them.
func RenewLeases(ctx context.Context, client kubernetes.Interface, namespace, podName string, tenants func() []string) error {
	h := &LeaseHolder{Client: client, Namespace: namespace, Identity: podName, Tenants: tenants}
	return h.Run(ctx)
}

func (h *LeaseHolder) init() {
	h.once.Do(func() {
		if h.Duration <= 0 {
			h.Duration = DefaultLeaseDuration
		}
		if h.RenewInterval <= 0 {
			h.RenewInterval = h.Duration / 3
		}
		if h.Log == nil {
			h.Log = slog.Default()
		}
		h.Log = h.Log.With("component", "tenant-leases", "namespace", h.Namespace, "holder", h.Identity)
		h.held = map[string]*heldLease{}
		h.kick = make(chan struct{}, 1)
		h.changed = make(chan struct{}, 1)
	})
}

// Run acquires and renews Leases every RenewInterval (or at once after Kick) until ctx ends,
// then releases every Lease it holds so the next owners start without waiting for expiry.
func (h *LeaseHolder) Run(ctx context.Context) error {
	h.init()
	if h.Client == nil || h.Namespace == "" || h.Identity == "" || h.Tenants == nil {
		return errors.New("lease holder: client, namespace, identity and tenants are required")
	}
	tick := time.NewTicker(h.RenewInterval)
	defer tick.Stop()
	for {
		h.sync(ctx)
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			defer cancel()
			h.releaseAll(rctx)
			return nil
		case <-tick.C:
		case <-h.kick:
		case <-h.Trigger: // nil channel: never ready
		}
	}
}

// Kick makes Run sync now (call it when the assignment changed).
func (h *LeaseHolder) Kick() {
	h.init()
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Changed receives a value (coalesced) whenever a Lease was acquired, lost or released.
func (h *LeaseHolder) Changed() <-chan struct{} {
	h.init()
	return h.changed
}

// Holds reports whether this pod holds the tenant's Lease now: its last renewal was sent less
// than Duration-RenewInterval ago. The margin of one interval makes the node stop before the
// operator (reading renewTime + leaseDurationSeconds) can consider the Lease expired.
func (h *LeaseHolder) Holds(tenantName string) bool {
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	hl, ok := h.held[tenantName]
	return ok && time.Since(hl.sent) < h.Duration-h.RenewInterval
}

// Held returns the names of the tenants whose Lease Holds, sorted.
func (h *LeaseHolder) Held() []string {
	h.init()
	h.mu.Lock()
	names := slices.Sorted(maps.Keys(h.held))
	h.mu.Unlock()
	return slices.DeleteFunc(names, func(n string) bool { return !h.Holds(n) })
}

func (h *LeaseHolder) sync(ctx context.Context) {
	want := map[string]bool{}
	for _, n := range h.Tenants() {
		want[n] = true
	}
	h.mu.Lock()
	var drop []string
	for n := range h.held {
		if !want[n] {
			drop = append(drop, n)
		}
	}
	h.mu.Unlock()
	for _, n := range drop {
		h.release(ctx, n)
	}
	for _, n := range slices.Sorted(maps.Keys(want)) {
		if ctx.Err() != nil {
			return
		}
		if err := h.acquireOrRenew(ctx, n); err != nil {
			h.Log.Warn("lease not renewed", "lease", LeaseName(n), "err", err)
		}
	}
}

func (h *LeaseHolder) setHeld(name string, l *coordinationv1.Lease, sent time.Time) {
	h.mu.Lock()
	_, had := h.held[name]
	if l == nil {
		delete(h.held, name)
	} else {
		h.held[name] = &heldLease{lease: l, sent: sent}
	}
	h.mu.Unlock()
	if had != (l != nil) {
		select {
		case h.changed <- struct{}{}:
		default:
		}
	}
}

func (h *LeaseHolder) heldLease(name string) *coordinationv1.Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hl, ok := h.held[name]; ok {
		return hl.lease.DeepCopy()
	}
	return nil
}

// acquireOrRenew renews a Lease this pod holds with one Update, and otherwise reads it to
// create it, take it over when free or expired, or leave it to its live holder.
func (h *LeaseHolder) acquireOrRenew(ctx context.Context, name string) error {
	leases := h.Client.CoordinationV1().Leases(h.Namespace)
	if l := h.heldLease(name); l != nil {
		sent := time.Now()
		if done, err := h.write(ctx, name, renewed(l, sent, h.Duration), sent); done || !stale(err) {
			return err
		}
	}
	sent := time.Now()
	cur, err := leases.Get(ctx, LeaseName(name), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l := newLease(h.Namespace, name, h.Identity, h.Labels, sent, h.Duration)
		created, err := leases.Create(ctx, l, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		h.Log.Info("lease acquired", "lease", created.Name)
		h.setHeld(name, created, sent)
		return nil
	case err != nil:
		return fmt.Errorf("get: %w", err)
	}
	switch holder := holderOf(cur); {
	case holder == h.Identity:
		_, err := h.write(ctx, name, renewed(cur, sent, h.Duration), sent)
		return err
	case holder == "" || expired(cur, sent):
		if _, err := h.write(ctx, name, takenOver(cur, h.Identity, sent, h.Duration), sent); err != nil {
			return err
		}
		h.Log.Info("lease acquired", "lease", cur.Name, "previousHolder", holder)
		return nil
	default:
		// Someone else holds a live Lease: the operator's assignment moved here before the old
		// owner let go. Wait for its release or expiry; never stream meanwhile.
		h.setHeld(name, nil, time.Time{})
		return nil
	}
}

// write updates a Lease; done reports success. A failure leaves the held state alone: Holds
// stays true only until the last successful renewal gets too old.
func (h *LeaseHolder) write(ctx context.Context, name string, l *coordinationv1.Lease, sent time.Time) (bool, error) {
	updated, err := h.Client.CoordinationV1().Leases(h.Namespace).Update(ctx, l, metav1.UpdateOptions{})
	if err != nil {
		return false, fmt.Errorf("update: %w", err)
	}
	h.setHeld(name, updated, sent)
	return true, nil
}

// stale reports an error that means our copy of the Lease is outdated: read it again.
func stale(err error) bool { return apierrors.IsConflict(err) || apierrors.IsNotFound(err) }

// release gives up a Lease (holderIdentity "") after forgetting it, so Holds is false first.
func (h *LeaseHolder) release(ctx context.Context, name string) {
	l := h.heldLease(name)
	h.setHeld(name, nil, time.Time{})
	if l == nil {
		return
	}
	leases := h.Client.CoordinationV1().Leases(h.Namespace)
	for range 2 {
		if holderOf(l) != h.Identity {
			return // taken over meanwhile: nothing of ours to release
		}
		_, err := leases.Update(ctx, released(l, time.Now()), metav1.UpdateOptions{})
		if err == nil {
			h.Log.Info("lease released", "lease", l.Name)
			return
		}
		if !apierrors.IsConflict(err) {
			h.Log.Warn("lease not released; it will expire", "lease", l.Name, "err", err)
			return
		}
		if l, err = leases.Get(ctx, l.Name, metav1.GetOptions{}); err != nil {
			h.Log.Warn("lease not released; it will expire", "lease", LeaseName(name), "err", err)
			return
		}
	}
}

func (h *LeaseHolder) releaseAll(ctx context.Context) {
	h.mu.Lock()
	names := slices.Sorted(maps.Keys(h.held))
	h.mu.Unlock()
	for _, n := range names {
		h.release(ctx, n)
	}
}
