package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// finalize drops the tenant's replication slot (best effort, bounded by SlotDropTimeout, the
// outcome reported in an event) and then releases the Tenant. A slot left behind would retain
// WAL on the tenant's database forever, so it is worth a try; a database that is gone must not
// keep the Tenant from being deleted, so failure does not block.
func (r *TenantReconciler) finalize(ctx context.Context, t *realtimev1.Tenant) error {
	if !controllerutil.ContainsFinalizer(t, realtimev1.TenantFinalizer) {
		return nil
	}
	r.dropSlotBestEffort(ctx, t)
	if err := r.deleteLease(ctx, t); err != nil {
		return err
	}
	base := t.DeepCopy()
	controllerutil.RemoveFinalizer(t, realtimev1.TenantFinalizer)
	if err := r.Patch(ctx, t, client.MergeFrom(base)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// deleteLease removes the tenant's fencing Lease: nodes create it without an owner reference (they
// may not own the Tenant), so nothing else would ever collect it.
func (r *TenantReconciler) deleteLease(ctx context.Context, t *realtimev1.Tenant) error {
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: t.Namespace, Name: t.LeaseName()}}
	if err := r.Delete(ctx, lease); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete lease %s: %w", lease.Name, err)
	}
	return nil
}

func (r *TenantReconciler) dropSlotBestEffort(ctx context.Context, t *realtimev1.Tenant) {
	db := t.Spec.Database
	if db == nil {
		return
	}
	view := t.DeepCopy()
	view.Default()
	db = view.Spec.Database
	slot := view.SlotName()
	warn := func(reason, format string, args ...any) {
		logFrom(ctx).Info("replication slot not dropped", "tenant", t.Name, "slot", slot, "reason", reason)
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, reason, "DropSlot", format, args...)
	}
	secret := &corev1.Secret{}
	ref := db.PasswordSecretRef
	if err := r.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: ref.Name}, secret); err != nil {
		warn("SlotDropSkipped", "slot %s not dropped: cannot read password Secret %q: %v", slot, ref.Name, err)
		return
	}
	password, ok := secret.Data[ref.Key]
	if !ok {
		warn("SlotDropSkipped", "slot %s not dropped: Secret %q has no key %q", slot, ref.Name, ref.Key)
		return
	}
	timeout := r.SlotDropTimeout
	if timeout <= 0 {
		timeout = DefaultSlotDropTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dropped, err := dropReplicationSlot(ctx, databaseURL(db, string(password)), slot)
	switch {
	case err != nil:
		warn("SlotDropFailed", "slot %s not dropped from %s:%d/%s: %v", slot, db.Host, db.Port, db.Name, err)
	case dropped:
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "SlotDropped", "DropSlot",
			"dropped replication slot %s from %s:%d/%s", slot, db.Host, db.Port, db.Name)
	default:
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "SlotNotFound", "DropSlot",
			"replication slot %s did not exist on %s:%d/%s", slot, db.Host, db.Port, db.Name)
	}
}

// databaseURL builds the connection URL; it carries the password, so it is never logged.
func databaseURL(db *realtimev1.DatabaseSpec, password string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(db.User, password),
		Host:     net.JoinHostPort(db.Host, strconv.Itoa(int(db.Port))),
		Path:     "/" + db.Name,
		RawQuery: url.Values{"sslmode": {db.SSLMode}, "connect_timeout": {"5"}}.Encode(),
	}
	return u.String()
}

// dropReplicationSlot terminates the slot's reader, if any (the tenant is going away, so its
// owner node must stop anyway), and drops the slot. It reports false when there was no slot.
func dropReplicationSlot(ctx context.Context, dsn, slot string) (bool, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false, errors.New("invalid database settings") // the error would quote the DSN
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var exists, active bool
		err := conn.QueryRow(ctx,
			`SELECT true, active FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&exists, &active)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("look up slot: %w", err)
		}
		if active {
			if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
				WHERE slot_name = $1 AND active_pid IS NOT NULL`, slot); err != nil {
				return false, fmt.Errorf("terminate slot reader: %w", err)
			}
		} else if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, slot); err == nil {
			return true, nil
		}
		// The reader may take a moment to exit (or the drop raced with it): retry until timeout.
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("slot still active: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
