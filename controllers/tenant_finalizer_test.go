package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/pgtest"
)

// TestTenantFinalizerDropsSlot deletes a Tenant whose database (a real Postgres) has the
// tenant's replication slot, and checks the finalizer dropped it and reported it in an event.
func TestTenantFinalizerDropsSlot(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	t0 := time.Now()
	t.Logf("postgres up")
	t.Cleanup(func() { t.Logf("cleanup starts at %s", time.Since(t0)) })
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	tn := testTenant(ns, "slotted", "rt", "eu-west")
	tn.Spec.ExternalID = "slot-owner-1"
	tn.Spec.Database.Host, tn.Spec.Database.Port = pg.Host, int32(pg.Port)
	slot := tn.SlotName()
	if slot != "supabase_realtime_replication_slot_slot_owner_1" {
		t.Fatalf("slot name %q", slot)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, slot); err != nil {
		t.Fatalf("create slot: %v", err)
	}
	mustCreate(t, tn)
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if !controllerutil.ContainsFinalizer(tn, realtimev1.TenantFinalizer) {
			return fmt.Errorf("no finalizer yet: %v", tn.Finalizers)
		}
		return nil
	})
	// The owner node's fencing Lease (nodes create it without an owner reference).
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tn.LeaseName(), Labels: nodeLeaseLabels("rt")},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("rt-eu-west-0")}}
	mustCreate(t, lease)
	if err := testClient.Delete(ctx, tn); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error {
		err := testClient.Get(ctx, client.ObjectKeyFromObject(tn), &realtimev1.Tenant{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("tenant still there (err=%v)", err)
	})
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(lease), &coordinationv1.Lease{}); !apierrors.IsNotFound(err) {
		t.Fatalf("tenant lease not deleted by the finalizer: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("slot %s still exists after the finalizer ran", slot)
	}
	t.Logf("tenant deleted and slot dropped at %s", time.Since(t0))
	checkFor(t, 20*time.Second, func() error { return findEvent(ctx, ns, "slotted", "SlotDropped") })
	t.Logf("SlotDropped event seen at %s", time.Since(t0))

	// A tenant whose database is unreachable is still released, with a warning event.
	gone := testTenant(ns, "unreachable", "rt", "eu-west")
	mustCreate(t, gone)
	waitTenant(t, gone, func(tn *realtimev1.Tenant) error {
		if !controllerutil.ContainsFinalizer(tn, realtimev1.TenantFinalizer) {
			return fmt.Errorf("no finalizer yet")
		}
		return nil
	})
	if err := testClient.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error {
		err := testClient.Get(ctx, client.ObjectKeyFromObject(gone), &realtimev1.Tenant{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("tenant still there (err=%v)", err)
	})
	checkFor(t, 20*time.Second, func() error { return findEvent(ctx, ns, "unreachable", "SlotDropFailed") })
	t.Logf("unreachable tenant released at %s", time.Since(t0))
}

// findEvent looks for an event (events.k8s.io or core) about the named object with reason.
func findEvent(ctx context.Context, ns, name, reason string) error {
	var list corev1.EventList
	if err := testClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	var seen []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			return nil
		}
		seen = append(seen, e.InvolvedObject.Name+"/"+e.Reason)
	}
	return fmt.Errorf("no event %s for %s; have %v", reason, name, seen)
}

var _ = metav1.Now
