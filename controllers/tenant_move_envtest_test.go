package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

func setMoveTo(t *testing.T, tn *realtimev1.Tenant, pod string) {
	t.Helper()
	cur := &realtimev1.Tenant{}
	if err := testClient.Get(context.Background(), client.ObjectKeyFromObject(tn), cur); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(cur.DeepCopy())
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	if pod == "" {
		delete(cur.Annotations, realtimev1.MoveToAnnotation)
	} else {
		cur.Annotations[realtimev1.MoveToAnnotation] = pod
	}
	if err := testClient.Patch(context.Background(), cur, patch); err != nil {
		t.Fatal(err)
	}
}

// TestTenantMoveRequested: the move-to annotation (kubectl realtime move) moves the WAL work to
// the named pod, even in another region, with lastMove Requested, Assigned MoveRequested and a
// Moved event; a target that cannot own the tenant leaves the placement alone with
// MoveTargetUnavailable and a warning; removing the annotation returns to the usual placement.
func TestTenantMoveRequested(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	pods := podsByName(
		createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-0", true),
		createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-1", true),
		createNodePod(t, ns, "rt", "us-east", "rt-us-east-0", true),
	)
	tn := testTenant(ns, "mover", "rt", "eu-west")
	mustCreate(t, tn)
	first := waitTenant(t, tn, assignedTo("eu-west", realtimev1.ReasonSameRegion)).Status.Replication.Node

	setMoveTo(t, tn, "rt-us-east-0")
	cur := waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if err := assignedTo("us-east", realtimev1.ReasonMoveRequested)(tn); err != nil {
			return err
		}
		if m := tn.Status.Replication.LastMove; m == nil || m.From != first || m.To != "rt-us-east-0" || m.Reason != realtimev1.MoveRequested {
			return fmt.Errorf("lastMove %+v", m)
		}
		return nil
	})
	if cur.Status.Replication.Reason != realtimev1.MoveRequested {
		t.Fatalf("status.replication.reason %q", cur.Status.Replication.Reason)
	}
	checkFor(t, 10*time.Second, func() error { return findEvent(ctx, ns, "mover", "Moved") })

	// The target stops being ready: the usual rules place the tenant, the request is reported.
	setPodReady(t, pods["rt-us-east-0"], false)
	waitTenant(t, tn, assignedTo("eu-west", realtimev1.ReasonMoveTargetUnavailable))
	checkFor(t, 10*time.Second, func() error { return findEvent(ctx, ns, "mover", string(realtimev1.ReasonMoveTargetUnavailable)) })

	// Ready again: the pin applies again.
	setPodReady(t, pods["rt-us-east-0"], true)
	waitTenant(t, tn, assignedTo("us-east", realtimev1.ReasonMoveRequested))

	// A pod outside the cluster is refused the same way.
	setMoveTo(t, tn, "not-a-node-pod")
	cur = waitTenant(t, tn, assignedTo("eu-west", realtimev1.ReasonMoveTargetUnavailable))
	if c := meta.FindStatusCondition(cur.Status.Conditions, string(realtimev1.TenantAssigned)); c == nil ||
		c.Message == "" || !strings.Contains(c.Message, "not-a-node-pod") {
		t.Fatalf("Assigned %+v does not name the refused target", c)
	}

	// No annotation: the usual placement.
	setMoveTo(t, tn, "")
	waitTenant(t, tn, assignedTo("eu-west", realtimev1.ReasonSameRegion))
}
