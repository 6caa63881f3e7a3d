package controllers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// How tenant health is observed (pure part; the I/O is in slotdb.go and tenant_slot.go): the
// operator itself connects to the tenant's database every HealthInterval and reads the slot's
// row of pg_replication_slots, and reads the fencing Lease it already watches. Nothing is taken
// from the nodes: a node that is wedged or partitioned cannot report itself healthy, and the
// facts that matter for the database's disk come from the database.

// checkedAtRefresh bounds how stale status.replication.checkedAt gets when nothing changes.
const checkedAtRefresh = 5 * time.Minute

// leaseHealth is the tenant's fencing Lease as seen against the assigned owner.
type leaseHealth struct {
	Owner   string
	Lease   leaseView
	LeaseOK bool
}

// healthEvent is an event applyHealth asks for (on condition transitions only).
type healthEvent struct{ Type, Reason, Message string }

var healthConditions = []realtimev1.ConditionType{
	realtimev1.TenantOwnerLeaseHeld, realtimev1.TenantDatabaseReachable,
	realtimev1.TenantReplicationStreaming, realtimev1.TenantSlotLagWithinLimit,
}

// clearHealth removes the health conditions and slot figures of a tenant without a database.
func clearHealth(st *realtimev1.TenantStatus) {
	for _, c := range healthConditions {
		meta.RemoveStatusCondition(&st.Conditions, string(c))
	}
	if r := st.Replication; r != nil {
		*r = realtimev1.ReplicationStatus{Node: r.Node, Region: r.Region, Since: r.Since, Reason: r.Reason, LastMove: r.LastMove}
	}
}

// applyHealth sets OwnerLeaseHeld, DatabaseReachable, ReplicationStreaming and
// SlotLagWithinLimit and the slot figures of status.replication from one probe, and returns the
// events of the transitions.
func applyHealth(st *realtimev1.TenantStatus, t *realtimev1.Tenant, p probeResult, lh leaseHealth, now time.Time) []healthEvent {
	var evs []healthEvent
	set := func(typ realtimev1.ConditionType, ok bool, reason realtimev1.ConditionReason, msg string, warn bool) {
		if setCondition(st, t.Generation, typ, ok, reason, msg) {
			switch {
			case !ok && warn:
				evs = append(evs, healthEvent{corev1.EventTypeWarning, string(reason), msg})
			case ok:
				evs = append(evs, healthEvent{corev1.EventTypeNormal, string(reason), msg})
			}
		}
	}
	if st.Replication == nil {
		st.Replication = &realtimev1.ReplicationStatus{}
	}
	rep := st.Replication
	rep.Slot = t.SlotName()

	// OwnerLeaseHeld: only tenants with WAL work have an owner.
	leaseHeld := false
	if t.NeedsOwner() {
		ok, reason, msg := leaseCondition(lh, t.LeaseName(), now)
		leaseHeld = ok
		// A new owner takes a moment to acquire the Lease: only losing it is worth a warning.
		set(realtimev1.TenantOwnerLeaseHeld, ok, reason, msg, reason == realtimev1.ReasonLeaseExpired || reason == realtimev1.ReasonLeaseHeldByOther)
	} else {
		meta.RemoveStatusCondition(&st.Conditions, string(realtimev1.TenantOwnerLeaseHeld))
	}

	db := t.Spec.Database
	where := fmt.Sprintf("%s:%d/%s", db.Host, db.Port, db.Name)
	switch {
	case p.ConnectErr != nil:
		set(realtimev1.TenantDatabaseReachable, false, realtimev1.ReasonConnectFailed, fmt.Sprintf("%s: %v", where, p.ConnectErr), true)
	case p.QueryErr != nil:
		set(realtimev1.TenantDatabaseReachable, false, realtimev1.ReasonQueryFailed, fmt.Sprintf("%s: %v", where, p.QueryErr), true)
	default:
		set(realtimev1.TenantDatabaseReachable, true, realtimev1.ReasonConnected, "connected to "+where, false)
	}
	reachable := p.ConnectErr == nil && p.QueryErr == nil
	if reachable {
		before := rep.DeepCopy()
		s := p.Slot
		if s.Exists && s.ConfirmedLSN != "" && s.ConfirmedLSN != rep.ConfirmedLSN {
			rep.LastAdvance = ptr(metav1.NewTime(now))
		}
		rep.Active, rep.ConfirmedLSN, rep.WALStatus, rep.SafeWALSize = s.Active, s.ConfirmedLSN, s.WALStatus, s.SafeWALSize
		rep.LagBytes, rep.Lag = nil, ""
		if s.Exists {
			rep.LagBytes = ptr(s.LagBytes)
			rep.Lag = resource.NewQuantity(s.LagBytes, resource.BinarySI).String()
		}
		// checkedAt moves with the figures, else every checkedAtRefresh: an idle tenant costs
		// no status write per check, and a stale checkedAt still shows a stuck observer.
		if !equality.Semantic.DeepEqual(before, rep) || rep.CheckedAt == nil || now.Sub(rep.CheckedAt.Time) >= checkedAtRefresh {
			rep.CheckedAt = ptr(metav1.NewTime(now))
		}
	}

	// ReplicationStreaming: the owner holds the Lease and the slot has an active reader; the
	// slot's single-reader rule and the fencing make that reader the owner.
	if t.NeedsOwner() {
		ok, reason, msg := true, realtimev1.ReasonStreaming, fmt.Sprintf("%s streams slot %s", lh.Owner, rep.Slot)
		switch {
		case !reachable:
			ok, reason, msg = false, realtimev1.ReasonNotReachable, "the database is not reachable (see DatabaseReachable)"
		case !p.Slot.Exists:
			ok, reason, msg = false, realtimev1.ReasonSlotMissing, fmt.Sprintf("slot %s does not exist yet: the owner creates it when it starts streaming", rep.Slot)
		case !p.Slot.Active:
			ok, reason, msg = false, realtimev1.ReasonSlotInactive, fmt.Sprintf("slot %s has no reader", rep.Slot)
		case !leaseHeld:
			ok, reason, msg = false, realtimev1.ReasonLeaseNotHeld, "the owner does not hold the Lease (see OwnerLeaseHeld)"
		}
		set(realtimev1.TenantReplicationStreaming, ok, reason, msg, reason != realtimev1.ReasonSlotMissing)
	} else {
		meta.RemoveStatusCondition(&st.Conditions, string(realtimev1.TenantReplicationStreaming))
	}

	// SlotLagWithinLimit: the WAL-retention policy.
	if reachable {
		limit := t.MaxSlotLagBytes()
		limitQ := resource.NewQuantity(limit, resource.BinarySI).String()
		s := p.Slot
		switch {
		case !s.Exists:
			set(realtimev1.TenantSlotLagWithinLimit, true, realtimev1.ReasonSlotMissing, "no slot: no WAL retained", false)
		case s.WALStatus == "lost":
			set(realtimev1.TenantSlotLagWithinLimit, false, realtimev1.ReasonWALLost,
				fmt.Sprintf("slot %s lost WAL it needed (max_slot_wal_keep_size): changes were skipped", rep.Slot), true)
		case s.LagBytes > limit:
			set(realtimev1.TenantSlotLagWithinLimit, false, realtimev1.ReasonLagExceeded,
				fmt.Sprintf("slot %s retains %s of WAL, over maxSlotLag %s", rep.Slot, rep.Lag, limitQ), true)
		case s.WALStatus == "unreserved":
			set(realtimev1.TenantSlotLagWithinLimit, false, realtimev1.ReasonWALUnreserved,
				fmt.Sprintf("slot %s is about to lose WAL (wal_status unreserved)", rep.Slot), true)
		default:
			set(realtimev1.TenantSlotLagWithinLimit, true, realtimev1.ReasonLagWithinLimit,
				fmt.Sprintf("slot %s retains %s of WAL (maxSlotLag %s)", rep.Slot, rep.Lag, limitQ), false)
		}
	}
	return evs
}

func leaseCondition(lh leaseHealth, name string, now time.Time) (bool, realtimev1.ConditionReason, string) {
	switch {
	case lh.Owner == "":
		return false, realtimev1.ReasonNotAssigned, "no owner is assigned (see Assigned)"
	case !lh.LeaseOK:
		return false, realtimev1.ReasonLeaseMissing, fmt.Sprintf("%s has not acquired Lease %s", lh.Owner, name)
	case lh.Lease.Holder != lh.Owner:
		return false, realtimev1.ReasonLeaseHeldByOther, fmt.Sprintf("Lease %s is held by %s, not the owner %s", name, lh.Lease.Holder, lh.Owner)
	case now.After(lh.Lease.Expired):
		return false, realtimev1.ReasonLeaseExpired, fmt.Sprintf("%s stopped renewing Lease %s (expired %s)", lh.Owner, name, lh.Lease.Expired.UTC().Format(time.RFC3339))
	}
	return true, realtimev1.ReasonLeaseHeld, fmt.Sprintf("%s holds Lease %s", lh.Owner, name)
}
