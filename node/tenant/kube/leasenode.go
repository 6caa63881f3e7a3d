package kube

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/realtimeops/realtime/internal/tenantlease"
)

// renewNode renews the pod's node Lease: one Update of our copy while our right is continuous.
// Otherwise it reads the Lease and keeps the epoch only when the Lease is ours and nothing of
// this process could have outlived a lapse (a fresh process: the previous one of this pod is
// gone, and every tenant Lease is re-affirmed by a write before Holds); after a lapse, or when
// the Lease was released or someone else's, it starts a new epoch, which ends every tenant
// Lease of the old one for all readers at once (tenantlease: fencing by epoch).
func (h *LeaseHolder) renewNode(ctx context.Context) error {
	leases := h.Client.CoordinationV1().Leases(h.Namespace)
	h.mu.Lock()
	cur, continuous := h.node, h.nodeLive()
	h.mu.Unlock()
	if cur != nil && continuous {
		sent := time.Now()
		updated, err := leases.Update(ctx, renewed(cur, sent, h.Duration), metav1.UpdateOptions{})
		if err == nil {
			h.setNode(updated, sent)
			return nil
		}
		if !stale(err) {
			return fmt.Errorf("update: %w", err)
		}
	}
	fresh := cur == nil
	sent := time.Now()
	got, err := leases.Get(ctx, tenantlease.NodeLeaseName(h.Identity), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		created, err := leases.Create(ctx, newNodeLease(h.Namespace, h.Identity, h.Labels, sent, h.Duration), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		h.mu.Lock()
		for _, hl := range h.held {
			hl.epoch = -1 // a recreated node Lease restarts at epoch 0: nothing held survives it
		}
		h.mu.Unlock()
		h.setNode(created, sent)
		h.notify()
		return nil
	case err != nil:
		return fmt.Errorf("get: %w", err)
	}
	next := takenOver(got, h.Identity, sent, h.Duration, -1)
	if holderOf(got) == h.Identity && (fresh || continuous) {
		next = renewed(got, sent, h.Duration)
	}
	updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if e := tenantlease.Epoch(updated); e != tenantlease.Epoch(got) {
		h.Log.Info("node lease epoch started", "lease", updated.Name, "epoch", e)
	}
	h.setNode(updated, sent)
	return nil
}

// setNode records a successful node Lease write; a new epoch invalidates every held tenant.
func (h *LeaseHolder) setNode(l *coordinationv1.Lease, sent time.Time) {
	h.mu.Lock()
	e := tenantlease.Epoch(l)
	changed := e != h.epoch && len(h.held) > 0
	h.node, h.nodeSent, h.epoch = l, sent, e
	h.mu.Unlock()
	if changed {
		h.notify()
	}
}
