package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/tenantlease"
)

// handoff is one tenant's planned move as move and drain follow it: the operator assigns the
// tenant (status.replication.node), then the new owner takes the fencing Lease once the old one
// released it. The plugin only asks (an annotation) and watches; it never writes a Lease.
type handoff struct {
	Tenant string `json:"tenant"`
	From   string `json:"from"`
	// To is the requested owner ("" for drain: any pod but From).
	To string `json:"to,omitempty"`
	// Owner is the owner assigned at the end, LeaseHolder the pod holding the Lease.
	Owner       string `json:"owner"`
	LeaseHolder string `json:"leaseHolder"`
	Done        bool   `json:"done"`

	assigned bool
	refused  string
}

// progress is where waiting lines go: stdout for tables, stderr with -o json|yaml so the
// document on stdout stays parseable.
func (e *env) progress() io.Writer {
	if e.output != "table" && e.errOut != nil {
		return e.errOut
	}
	return e.out
}

// waitHandoffs polls (every e.poll, up to e.timeout) until each handoff is done, printing one
// line per step; on timeout it names what is still waiting.
func (e *env) waitHandoffs(ctx context.Context, hs []*handoff) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	w := e.progress()
	var lastErr error // API errors while waiting are retried, as kubectl wait does
	for {
		pending := 0
		for _, h := range hs {
			if h.Done {
				continue
			}
			if err := e.step(ctx, w, h); err != nil {
				lastErr = err
			}
			if !h.Done {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				msg := fmt.Sprintf("timed out after %s waiting for %s", e.timeout, waitingFor(hs))
				if lastErr != nil {
					msg += fmt.Sprintf(" (last API error: %v)", lastErr)
				}
				return errors.New(msg)
			}
			return ctx.Err()
		case <-time.After(e.poll):
		}
	}
}

// step reads the tenant and its Lease once and prints what changed.
func (e *env) step(ctx context.Context, w io.Writer, h *handoff) error {
	var tn realtimev1.Tenant
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: h.Tenant}, &tn); err != nil {
		if apierrors.IsNotFound(err) {
			fmt.Fprintf(w, "tenant/%s: deleted\n", h.Tenant)
			h.Done = true
			return nil
		}
		return fmt.Errorf("tenant %s: %w", h.Tenant, err)
	}
	owner := ""
	if rep := tn.Status.Replication; rep != nil {
		owner = rep.Node
	}
	h.Owner = owner
	if c := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantAssigned)); c != nil &&
		h.To != "" && c.Reason == string(realtimev1.ReasonMoveTargetUnavailable) && strings.Contains(c.Message, h.To) && c.Message != h.refused {
		fmt.Fprintf(w, "tenant/%s: the operator cannot move it yet: %s\n", h.Tenant, c.Message)
		h.refused = c.Message
	}
	wanted := owner != "" && (owner == h.To || h.To == "" && owner != h.From)
	if !wanted {
		return nil
	}
	if !h.assigned {
		fmt.Fprintf(w, "tenant/%s: assigned to %s (was %s)\n", h.Tenant, owner, orDash(h.From))
		h.assigned = true
	}
	holder, err := e.leaseHolder(ctx, tn.LeaseName())
	if err != nil {
		return err
	}
	if holder != h.LeaseHolder && holder != "" && holder != owner {
		fmt.Fprintf(w, "tenant/%s: Lease still held by %s\n", h.Tenant, holder)
	}
	h.LeaseHolder = holder
	if holder == owner {
		fmt.Fprintf(w, "tenant/%s: Lease held by %s: handoff done\n", h.Tenant, owner)
		h.Done = true
	}
	return nil
}

// leaseHolder is the live holder of a tenant Lease ("" when free, expired or absent), read by
// the contract the operator and the nodes share.
func (e *env) leaseHolder(ctx context.Context, name string) (string, error) {
	var l coordinationv1.Lease
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: name}, &l); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("lease %s: %w", name, err)
	}
	var node *coordinationv1.Lease
	if h := tenantlease.Holder(&l); h != "" {
		n := &coordinationv1.Lease{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: tenantlease.NodeLeaseName(h)}, n); err == nil {
			node = n
		} else if !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("node lease of %s: %w", h, err)
		}
	}
	v := tenantlease.Read(&l, node)
	if v.Free(e.now()) {
		return "", nil
	}
	return v.Holder, nil
}

func waitingFor(hs []*handoff) string {
	var parts []string
	for _, h := range hs {
		switch {
		case h.Done:
		case !h.assigned && h.To != "":
			parts = append(parts, fmt.Sprintf("%s to be assigned to %s (owner %s)", h.Tenant, h.To, orDash(h.Owner)))
		case !h.assigned:
			parts = append(parts, fmt.Sprintf("%s to move off %s", h.Tenant, h.From))
		default:
			parts = append(parts, fmt.Sprintf("%s's Lease to pass to %s (held by %s)", h.Tenant, h.Owner, orDash(h.LeaseHolder)))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
