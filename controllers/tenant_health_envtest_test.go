package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/internal/pgtest"
)

// condIs checks one condition's status and reason.
func condIs(tn *realtimev1.Tenant, typ realtimev1.ConditionType, status metav1.ConditionStatus, reason realtimev1.ConditionReason) error {
	c := meta.FindStatusCondition(tn.Status.Conditions, string(typ))
	if c == nil || c.Status != status || c.Reason != string(reason) || c.ObservedGeneration != tn.Generation {
		return fmt.Errorf("%s = %+v, want %s/%s", typ, c, status, reason)
	}
	return nil
}

// streamSlot plays the owner node's slot reader: a replication connection streaming the slot
// without ever confirming, so the slot is active and its retained WAL only grows.
func streamSlot(t *testing.T, pg *pgtest.Instance, slot string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgconn.Connect(ctx, pg.DSN("postgres")+"&replication=database")
	if err != nil {
		t.Fatalf("replication connection: %v", err)
	}
	if err := pglogrepl.StartReplication(ctx, conn, slot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names 'supabase_realtime'"},
	}); err != nil {
		t.Fatalf("start replication: %v", err)
	}
	done := make(chan struct{})
	go func() { // drain the stream; never send a standby status update
		defer close(done)
		for {
			if _, err := conn.ReceiveMessage(ctx); err != nil {
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
		_ = conn.Close(context.Background())
	}
}

// TestTenantHealthAgainstPostgres drives one tenant's health through reality: a real database,
// a slot streamed by a reader holding the owner's Lease (Ready), WAL written past maxSlotLag
// (SlotLagWithinLimit False, event), the reader gone (ReplicationStreaming False), the tenant
// suspended (slot dropped by dropWhenSuspended) and the database removed (slot dropped there).
func TestTenantHealthAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE PUBLICATION supabase_realtime; CREATE TABLE filler (x text)`); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-0", true)
	createNodePod(t, ns, "rt", "eu-west", "rt-eu-west-1", true)
	tn := testTenant(ns, "health", "rt", "eu-west")
	tn.Spec.Database.Host, tn.Spec.Database.Port = pg.Host, int32(pg.Port)
	lag := resource.MustParse("2Mi")
	tn.Spec.Database.MaxSlotLag = &lag
	mustCreate(t, tn)
	slot := tn.SlotName()

	// Assigned and reachable, but nobody holds the Lease and there is no slot yet.
	cur := waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		for _, err := range []error{
			condIs(tn, realtimev1.TenantDatabaseReachable, metav1.ConditionTrue, realtimev1.ReasonConnected),
			condIs(tn, realtimev1.TenantOwnerLeaseHeld, metav1.ConditionFalse, realtimev1.ReasonLeaseMissing),
			condIs(tn, realtimev1.TenantReplicationStreaming, metav1.ConditionFalse, realtimev1.ReasonSlotMissing),
			condIs(tn, realtimev1.TenantReady, metav1.ConditionFalse, realtimev1.ReasonLeaseNotHeld),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	owner := cur.Status.Replication.Node

	// The owner acquires the Lease and streams the slot: Ready.
	mustCreate(t, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tn.LeaseName(), Labels: nodeLeaseLabels("rt")},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr(owner), LeaseDurationSeconds: ptr(int32(600)),
			AcquireTime: &metav1.MicroTime{Time: time.Now()}, RenewTime: &metav1.MicroTime{Time: time.Now()}}})
	if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, slot); err != nil {
		t.Fatal(err)
	}
	stop := streamSlot(t, pg, slot)
	t0 := time.Now()
	cur = waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if err := condIs(tn, realtimev1.TenantReady, metav1.ConditionTrue, realtimev1.ReasonTenantReady); err != nil {
			return err
		}
		r := tn.Status.Replication
		if r.Slot != slot || !r.Active || r.ConfirmedLSN == "" || r.LagBytes == nil || r.WALStatus == "" || r.CheckedAt == nil {
			return fmt.Errorf("replication %+v", r)
		}
		return condIs(tn, realtimev1.TenantSlotLagWithinLimit, metav1.ConditionTrue, realtimev1.ReasonLagWithinLimit)
	})
	t.Logf("Ready %s after the reader started; replication %+v", time.Since(t0).Round(time.Millisecond), *cur.Status.Replication)
	row := tableRow(t, "tenants", ns, "health")
	if row["Owner"] != owner || row["Ready"] != "True" || row["Lag"] == "" || row["Cluster"] != "rt" || row["DB Region"] != "eu-west" {
		t.Errorf("kubectl columns %v", row)
	}

	// WAL written past maxSlotLag, which the reader never confirms.
	if _, err := conn.Exec(ctx, `INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 5000)`); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if err := condIs(tn, realtimev1.TenantSlotLagWithinLimit, metav1.ConditionFalse, realtimev1.ReasonLagExceeded); err != nil {
			return err
		}
		if l := tn.Status.Replication.LagBytes; l == nil || *l <= 2<<20 {
			return fmt.Errorf("lag %v", l)
		}
		return nil
	})
	t.Logf("SlotLagWithinLimit False %s after the write", time.Since(t0).Round(time.Millisecond))
	checkFor(t, 10*time.Second, func() error { return findEvent(ctx, ns, "health", string(realtimev1.ReasonLagExceeded)) })

	// The reader stops: not streaming, not Ready.
	stop()
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if err := condIs(tn, realtimev1.TenantReplicationStreaming, metav1.ConditionFalse, realtimev1.ReasonSlotInactive); err != nil {
			return err
		}
		return condIs(tn, realtimev1.TenantReady, metav1.ConditionFalse, realtimev1.ReasonNotStreaming)
	})

	// Suspended with the default slotPolicy: the slot is dropped.
	patchTenant(t, tn, func(tn *realtimev1.Tenant) { tn.Spec.Suspend = true })
	checkFor(t, 20*time.Second, func() error { return slotGone(ctx, conn, slot) })
	checkFor(t, 10*time.Second, func() error { return findEvent(ctx, ns, "health", "SlotDropped") })

	// Resumed (the owner would re-create the slot), then the database is removed from the spec.
	patchTenant(t, tn, func(tn *realtimev1.Tenant) { tn.Spec.Suspend = false })
	if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, slot); err != nil {
		t.Fatal(err)
	}
	patchTenant(t, tn, func(tn *realtimev1.Tenant) { tn.Spec.Database = nil })
	checkFor(t, 20*time.Second, func() error { return slotGone(ctx, conn, slot) })
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if tn.Status.SlotDatabase != nil || meta.FindStatusCondition(tn.Status.Conditions, string(realtimev1.TenantDatabaseReachable)) != nil {
			return fmt.Errorf("slot database %+v conditions %+v", tn.Status.SlotDatabase, tn.Status.Conditions)
		}
		return nil
	})
	// No slot left to protect: the password Secret is released.
	checkFor(t, 10*time.Second, func() error {
		s := &corev1.Secret{}
		if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, s); err != nil {
			return err
		}
		if len(s.Finalizers) != 0 {
			return fmt.Errorf("secret finalizers %v", s.Finalizers)
		}
		return nil
	})
}

// With slotPolicy keep a suspended tenant keeps its slot (and its lag is still watched).
func TestTenantSlotKeptWhenSuspendedWithKeep(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	tn := testTenant(ns, "kept", "rt", "eu-west")
	tn.Spec.Database.Host, tn.Spec.Database.Port = pg.Host, int32(pg.Port)
	tn.Spec.Database.SlotPolicy = realtimev1.SlotKeep
	tn.Spec.Suspend = true
	if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, tn.SlotName()); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, tn)
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if r := tn.Status.Replication; r == nil || r.LagBytes == nil {
			return fmt.Errorf("replication %+v", r)
		}
		return condIs(tn, realtimev1.TenantSlotLagWithinLimit, metav1.ConditionTrue, realtimev1.ReasonLagWithinLimit)
	})
	if err := slotGone(ctx, conn, tn.SlotName()); err == nil {
		t.Fatal("slot dropped despite slotPolicy keep")
	}
}

// Namespace deletion removes the password Secret and the Tenant together: the Secret's
// finalizer keeps the password readable until the Tenant's finalizer dropped the slot.
func TestTenantSlotDroppedWhenSecretGoesFirst(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	tn := testTenant(ns, "ns-deleted", "rt", "eu-west")
	tn.Spec.Database.Host, tn.Spec.Database.Port = pg.Host, int32(pg.Port)
	if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, tn.SlotName()); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, tn)
	secret := &corev1.Secret{}
	checkFor(t, 20*time.Second, func() error {
		if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, secret); err != nil {
			return err
		}
		if !strings.Contains(strings.Join(secret.Finalizers, ","), SecretFinalizer) {
			return fmt.Errorf("secret finalizers %v", secret.Finalizers)
		}
		return nil
	})
	// As the namespace controller does: everything is deleted, the Secret first.
	if err := testClient.Delete(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := testClient.Delete(ctx, tn); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error { return slotGone(ctx, conn, tn.SlotName()) })
	checkFor(t, 20*time.Second, func() error {
		err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, &corev1.Secret{})
		if client.IgnoreNotFound(err) == nil && err != nil {
			return nil
		}
		return fmt.Errorf("secret still there (%v)", err)
	})
}

func slotGone(ctx context.Context, conn *pgx.Conn, slot string) error {
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&n); err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("slot %s still exists", slot)
	}
	return nil
}

func patchTenant(t *testing.T, tn *realtimev1.Tenant, mut func(*realtimev1.Tenant)) {
	t.Helper()
	checkFor(t, 10*time.Second, func() error {
		cur := &realtimev1.Tenant{}
		if err := testClient.Get(context.Background(), client.ObjectKeyFromObject(tn), cur); err != nil {
			return err
		}
		mut(cur)
		return testClient.Update(context.Background(), cur)
	})
}

// A tenant moved from a database that is gone to a new one keeps the old drop pending; deleting
// it still drops the slot of the new database.
func TestTenantDeletedWhileOldSlotDropPending(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ns := newNamespace(t)
	createSecrets(t, ns)
	mustCreate(t, twoRegionCluster(ns, "rt", 2))
	tn := testTenant(ns, "moved", "rt", "eu-west") // 127.0.0.1:1: nothing listens
	mustCreate(t, tn)
	waitTenant(t, tn, func(tn *realtimev1.Tenant) error {
		if tn.Status.SlotDatabase == nil || tn.Status.SlotDatabase.Port != 1 {
			return fmt.Errorf("slot database %+v", tn.Status.SlotDatabase)
		}
		return nil
	})
	if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, tn.SlotName()); err != nil {
		t.Fatal(err)
	}
	patchTenant(t, tn, func(tn *realtimev1.Tenant) { tn.Spec.Database.Host, tn.Spec.Database.Port = pg.Host, int32(pg.Port) })
	checkFor(t, 20*time.Second, func() error { return findEvent(ctx, ns, "moved", "SlotDropFailed") })
	if err := testClient.Delete(ctx, tn); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error { return slotGone(ctx, conn, tn.SlotName()) })
}
