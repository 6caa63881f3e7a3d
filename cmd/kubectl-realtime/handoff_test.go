package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/tenantlease"
)

// playOperatorAndNodes does, in miniature, what the operator and the node pods do for move and
// drain (controllers TestTenantMoveRequested proves the operator's side on a real API server):
// a Tenant whose move-to pod is ready is assigned there (a draining target is refused with
// MoveTargetUnavailable), a tenant of a draining pod goes to the other pod of its region, and
// the assigned owner takes the tenant's Lease.
func playOperatorAndNodes(ctx context.Context, t *testing.T, c client.Client) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var tenants realtimev1.TenantList
			if err := c.List(ctx, &tenants, client.InNamespace(ns)); err == nil {
				for i := range tenants.Items {
					playTenant(ctx, c, &tenants.Items[i])
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return done
}

func playTenant(ctx context.Context, c client.Client, tn *realtimev1.Tenant) {
	rep := tn.Status.Replication
	pod := func(name string) *corev1.Pod {
		var p corev1.Pod
		if c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p) != nil {
			return nil
		}
		return &p
	}
	draining := func(p *corev1.Pod) bool { return p.Annotations[realtimev1.DrainingAnnotation] == "true" }
	want, reason, msg := rep.Node, realtimev1.ConditionReason("SameRegion"), "owned by "+rep.Node
	if to := tn.Annotations[realtimev1.MoveToAnnotation]; to != "" {
		if p := pod(to); p != nil && !draining(p) {
			want, reason, msg = to, realtimev1.ReasonMoveRequested, "owned by "+to+", as requested"
		} else {
			reason, msg = realtimev1.ReasonMoveTargetUnavailable, "owned by "+rep.Node+"; requested owner "+to+" cannot own the tenant now (OwnerDraining)"
		}
	}
	if p := pod(want); p != nil && draining(p) && strings.HasSuffix(want, "-0") {
		want = strings.TrimSuffix(want, "-0") + "-1"
	}
	if cond := meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantAssigned)); want != rep.Node || cond == nil || cond.Reason != string(reason) {
		rep.Node = want
		meta.SetStatusCondition(&tn.Status.Conditions, metav1.Condition{Type: string(realtimev1.TenantAssigned),
			Status: metav1.ConditionTrue, Reason: string(reason), Message: msg})
		// A real API server takes status through the subresource; the fake client here has none
		// registered and takes a plain update.
		if err := c.Status().Update(ctx, tn); err != nil {
			_ = c.Update(ctx, tn)
		}
		return
	}
	// The new owner acquires the Lease (a self-contained one, as older nodes write).
	l := &coordinationv1.Lease{}
	err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: tn.LeaseName()}, l)
	now := metav1.NewMicroTime(time.Now())
	dur := int32(15)
	switch {
	case apierrors.IsNotFound(err):
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tn.LeaseName()},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &want, RenewTime: &now, LeaseDurationSeconds: &dur}}
		_ = c.Create(ctx, l)
	case err == nil && tenantlease.Holder(l) != want:
		l.Spec.HolderIdentity, l.Spec.RenewTime = &want, &now
		_ = c.Update(ctx, l)
	}
}

func handoffEnv(c client.Client, out, errOut *bytes.Buffer, output string) *env {
	return &env{c: c, out: out, errOut: errOut, namespace: ns, output: output, timeout: 10 * time.Second,
		now: time.Now, poll: 10 * time.Millisecond}
}

// TestMoveAndDrain runs move and drain against the fake client; TestAgainstAPIServer runs the
// same against a real API server.
func TestMoveAndDrain(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(twoRegions()...).
		WithStatusSubresource(&realtimev1.Tenant{}).Build()
	testMoveAndDrain(t, c)
}

func testMoveAndDrain(t *testing.T, c client.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := playOperatorAndNodes(ctx, t, c)
	defer func() { cancel(); <-done }()

	// move: annotation, assignment, Lease; golden progress.
	var out, errOut bytes.Buffer
	if err := handoffEnv(c, &out, &errOut, "table").move(ctx, []string{"eu-app"}, "realtime-eu-west-1"); err != nil {
		t.Fatalf("move: %v\n%s", err, out.String())
	}
	golden(t, "move.txt", out.String())

	// -o json: the document on stdout, progress on stderr.
	out.Reset()
	errOut.Reset()
	if err := handoffEnv(c, &out, &errOut, "json").move(ctx, []string{"us-app"}, "realtime-eu-west-0"); err != nil {
		t.Fatalf("move -o json: %v\n%s%s", err, out.String(), errOut.String())
	}
	var h handoff
	if err := json.Unmarshal(out.Bytes(), &h); err != nil || !h.Done || h.Owner != "realtime-eu-west-0" || h.LeaseHolder != "realtime-eu-west-0" || h.From != "realtime-us-east-1" {
		t.Fatalf("move -o json = %+v (%v)\n%s", h, err, out.String())
	}
	if !strings.Contains(errOut.String(), "handoff done") {
		t.Errorf("progress not on stderr with -o json: %q", errOut.String())
	}

	// A target the operator refuses (draining): reported, then a timeout.
	out.Reset()
	e := handoffEnv(c, &out, &errOut, "table")
	e.timeout = 500 * time.Millisecond
	err := e.move(ctx, []string{"eu-app"}, "realtime-us-east-0")
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(out.String(), "the operator cannot move it yet") {
		t.Fatalf("move to a draining pod: %v\n%s", err, out.String())
	}

	// drain: both tenants now on realtime-eu-west-0 leave it (move-to pins of the pod are
	// ignored while it drains), golden progress.
	unpin(ctx, t, c, "eu-app")
	out.Reset()
	if err := handoffEnv(c, &out, &errOut, "table").drain(ctx, []string{"realtime-eu-west-0"}); err != nil {
		t.Fatalf("drain: %v\n%s", err, out.String())
	}
	// Whether a poll lands between the assignment and the Lease update (a "Lease still held by"
	// line) depends on timing; the golden file holds the lines every run prints.
	golden(t, "drain.txt", withoutLines(out.String(), "Lease still held by"))
}

func unpin(ctx context.Context, t *testing.T, c client.Client, name string) {
	t.Helper()
	var tn realtimev1.Tenant
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &tn); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(tn.DeepCopy())
	delete(tn.Annotations, realtimev1.MoveToAnnotation)
	if err := c.Patch(ctx, &tn, patch); err != nil {
		t.Fatal(err)
	}
}

func withoutLines(s, sub string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.Contains(l, sub) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}
