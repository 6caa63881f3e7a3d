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

	"github.com/realtimeops/realtime/internal/tenantlease"
)

// The fencing contract with the operator is internal/tenantlease's (read there): one node Lease
// per pod renewed every Duration/3, and per tenant a Lease naming the holder and the node-Lease
// epoch it was acquired in, written only when it changes hands. The operator reassigns a tenant
// once its Lease has been expired for spec.failoverDelay.
const (
	// LeasePrefix is the tenant Lease name prefix (tenantlease.Prefix).
	LeasePrefix = tenantlease.Prefix
	// DefaultLeaseDuration is spec.leaseDurationSeconds of the Leases the node writes.
	DefaultLeaseDuration = tenantlease.DefaultDuration
	// ClusterLabel (v1alpha1.ClusterLabel) names the RealtimeCluster on the Leases nodes create.
	ClusterLabel = "realtime.realtimeops.io/cluster"
	// releaseTimeout bounds the release of every Lease when Run stops (SIGTERM handoff).
	releaseTimeout = 5 * time.Second
)

// LeaseName is the name of the fencing Lease of the Tenant resource named tenantName.
func LeaseName(tenantName string) string { return tenantlease.Name(tenantName) }

// LeaseHolder acquires, renews and releases the fencing Leases of one node pod.
//
// Contract for the caller: stream a tenant's slot only while Holds(name) is true, and keep
// listing a tenant in Tenants until its stream has stopped, so a Lease is never released
// while the old stream still runs.
//
// Each round writes the pod's node Lease once; tenant Leases are written only when acquired,
// taken over, re-affirmed in a new epoch or released. Steady state: one write per pod per
// RenewInterval whatever the number of tenants (test/e2e BenchmarkLeaseWrites1000Tenants).
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

	mu sync.Mutex
	// node is the last written node Lease; nodeSent when that write was sent (the conservative
	// start of its validity); epoch its epoch. The tenant Leases in held are good only in epoch.
	node     *coordinationv1.Lease
	nodeSent time.Time
	epoch    int32
	held     map[string]*heldLease // tenant name -> last written Lease
	kick     chan struct{}
	changed  chan struct{}
	once     sync.Once
}

type heldLease struct {
	lease *coordinationv1.Lease
	epoch int32
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

func (h *LeaseHolder) notify() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// nodeLive reports, under h.mu, whether the last node Lease write was sent less than
// Duration-RenewInterval ago. The margin of one interval makes the node stop before any reader
// (renewTime + leaseDurationSeconds on its clock) can consider the Lease expired.
func (h *LeaseHolder) nodeLive() bool {
	return !h.nodeSent.IsZero() && time.Since(h.nodeSent) < h.Duration-h.RenewInterval
}

// Holds reports whether this pod holds the tenant's Lease now: written in the current epoch,
// and the node Lease live.
func (h *LeaseHolder) Holds(tenantName string) bool {
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	hl, ok := h.held[tenantName]
	return ok && hl.epoch == h.epoch && h.nodeLive()
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
	if err := h.renewNode(ctx); err != nil {
		h.Log.Warn("node lease not renewed", "lease", tenantlease.NodeLeaseName(h.Identity), "err", err)
	}
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
	live := h.nodeLive()
	h.mu.Unlock()
	for _, n := range drop {
		h.release(ctx, n)
	}
	if !live {
		return // no tenant Lease can be good before the node Lease is
	}
	for _, n := range slices.Sorted(maps.Keys(want)) {
		if ctx.Err() != nil {
			return
		}
		if h.Holds(n) {
			continue // nothing to write: the node Lease renewal keeps it
		}
		if err := h.acquire(ctx, n); err != nil {
			h.Log.Warn("lease not acquired", "lease", LeaseName(n), "err", err)
		}
	}
}

func (h *LeaseHolder) setHeld(name string, l *coordinationv1.Lease, epoch int32) {
	h.mu.Lock()
	_, had := h.held[name]
	if l == nil {
		delete(h.held, name)
	} else {
		h.held[name] = &heldLease{lease: l, epoch: epoch}
	}
	h.mu.Unlock()
	if had != (l != nil) || l != nil {
		h.notify()
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

// acquire makes the tenant's Lease ours in the current epoch: it re-affirms our last copy with
// one Update, and otherwise reads it to create it, take it over when free or expired (by the
// contract's reading, with the holder's node Lease), or leave it to its live holder.
func (h *LeaseHolder) acquire(ctx context.Context, name string) error {
	leases := h.Client.CoordinationV1().Leases(h.Namespace)
	h.mu.Lock()
	epoch := h.epoch
	h.mu.Unlock()
	if l := h.heldLease(name); l != nil && holderOf(l) == h.Identity {
		if done, err := h.write(ctx, name, reaffirmed(l, time.Now(), h.Duration, epoch), epoch); done || !stale(err) {
			return err
		}
	}
	now := time.Now()
	cur, err := leases.Get(ctx, LeaseName(name), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l := newLease(h.Namespace, name, h.Identity, h.Labels, now, h.Duration, epoch)
		created, err := leases.Create(ctx, l, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		h.Log.Info("lease acquired", "lease", created.Name, "epoch", epoch)
		h.setHeld(name, created, epoch)
		return nil
	case err != nil:
		return fmt.Errorf("get: %w", err)
	}
	holder := holderOf(cur)
	if holder == h.Identity {
		_, err := h.write(ctx, name, reaffirmed(cur, now, h.Duration, epoch), epoch)
		return err
	}
	var node *coordinationv1.Lease
	if holder != "" {
		if node, err = leases.Get(ctx, tenantlease.NodeLeaseName(holder), metav1.GetOptions{}); apierrors.IsNotFound(err) {
			node = nil
		} else if err != nil {
			return fmt.Errorf("get holder's node lease: %w", err)
		}
	}
	if !tenantlease.Read(cur, node).Free(now) {
		// Someone else holds a live Lease: the operator's assignment moved here before the old
		// owner let go. Wait for its release or expiry; never stream meanwhile.
		h.setHeld(name, nil, 0)
		return nil
	}
	if _, err := h.write(ctx, name, takenOver(cur, h.Identity, now, h.Duration, epoch), epoch); err != nil {
		return err
	}
	h.Log.Info("lease acquired", "lease", cur.Name, "previousHolder", holder, "epoch", epoch)
	return nil
}

// write updates a tenant Lease; done reports success. A failure leaves the held state alone.
func (h *LeaseHolder) write(ctx context.Context, name string, l *coordinationv1.Lease, epoch int32) (bool, error) {
	updated, err := h.Client.CoordinationV1().Leases(h.Namespace).Update(ctx, l, metav1.UpdateOptions{})
	if err != nil {
		return false, fmt.Errorf("update: %w", err)
	}
	h.setHeld(name, updated, epoch)
	return true, nil
}

// stale reports an error that means our copy of the Lease is outdated: read it again.
func stale(err error) bool { return apierrors.IsConflict(err) || apierrors.IsNotFound(err) }

// release gives up a Lease (holderIdentity "") after forgetting it, so Holds is false first.
func (h *LeaseHolder) release(ctx context.Context, name string) {
	l := h.heldLease(name)
	h.setHeld(name, nil, 0)
	if l != nil {
		h.releaseLease(ctx, l)
	}
}

// releaseLease writes l (ours when last seen) with no holder, re-reading it once on a conflict.
func (h *LeaseHolder) releaseLease(ctx context.Context, l *coordinationv1.Lease) {
	leases := h.Client.CoordinationV1().Leases(h.Namespace)
	name := l.Name
	for range 2 {
		if holderOf(l) != h.Identity {
			return // taken over meanwhile: nothing of ours to release
		}
		_, err := leases.Update(ctx, released(l, time.Now()), metav1.UpdateOptions{})
		if err == nil {
			h.Log.Info("lease released", "lease", name)
			return
		}
		if !apierrors.IsConflict(err) {
			h.Log.Warn("lease not released; it will expire", "lease", name, "err", err)
			return
		}
		if l, err = leases.Get(ctx, name, metav1.GetOptions{}); err != nil {
			h.Log.Warn("lease not released; it will expire", "lease", name, "err", err)
			return
		}
	}
}

// releaseAll releases every tenant Lease, then the node Lease (which alone would end them all).
func (h *LeaseHolder) releaseAll(ctx context.Context) {
	h.mu.Lock()
	names := slices.Sorted(maps.Keys(h.held))
	h.mu.Unlock()
	for _, n := range names {
		h.release(ctx, n)
	}
	h.mu.Lock()
	node := h.node
	h.node, h.nodeSent = nil, time.Time{}
	h.mu.Unlock()
	if node != nil {
		h.releaseLease(ctx, node)
	}
}
