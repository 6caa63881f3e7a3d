package v1alpha1

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/realtimeops/realtime/node/slotname"
)

// EffectiveExternalID is spec.externalId, or metadata.name when unset.
func (t *Tenant) EffectiveExternalID() string {
	if t.Spec.ExternalID != "" {
		return t.Spec.ExternalID
	}
	return t.Name
}

// LeaseName is the name of the coordination.k8s.io Lease the owner node holds for the tenant.
func (t *Tenant) LeaseName() string { return LeasePrefix + t.Name }

// SlotName is the tenant's logical replication slot (shared rule with the node).
func (t *Tenant) SlotName() string { return slotname.ForTenant(t.EffectiveExternalID()) }

// NeedsOwner reports whether the tenant has WAL work that a node must own: it has a database
// and is not suspended. Database broadcasts need the owner even with Postgres Changes off.
func (t *Tenant) NeedsOwner() bool { return t.Spec.Database != nil && !t.Spec.Suspend }

// PostgresChangesEnabled reports whether Postgres Changes are on (default true).
func (t *Tenant) PostgresChangesEnabled() bool {
	return t.Spec.PostgresChanges.Enabled == nil || *t.Spec.PostgresChanges.Enabled
}

// FailoverDelayDuration is spec.failoverDelay, 0 when unset.
func (t *Tenant) FailoverDelayDuration() time.Duration {
	if t.Spec.FailoverDelay == nil {
		return 0
	}
	return t.Spec.FailoverDelay.Duration
}

// SecretRefs lists every Secret key the tenant references, JWT first.
func (t *Tenant) SecretRefs() []SecretKeySelector {
	var refs []SecretKeySelector
	if t.Spec.JWT.SecretRef != nil {
		refs = append(refs, *t.Spec.JWT.SecretRef)
	}
	if t.Spec.Database != nil {
		refs = append(refs, t.Spec.Database.PasswordSecretRef)
	}
	return refs
}

// DatabaseRegion is the database's region, "" without a database.
func (t *Tenant) DatabaseRegion() string {
	if t.Spec.Database == nil {
		return ""
	}
	return t.Spec.Database.Region
}

// MaxSlotLagBytes is spec.database.maxSlotLag in bytes (the default when unset or not positive).
func (t *Tenant) MaxSlotLagBytes() int64 {
	if db := t.Spec.Database; db != nil && db.MaxSlotLag != nil && db.MaxSlotLag.Value() > 0 {
		return db.MaxSlotLag.Value()
	}
	q := resource.MustParse(DefaultMaxSlotLag)
	return q.Value()
}

// SlotPolicyEffective is spec.database.slotPolicy, dropWhenSuspended when unset.
func (t *Tenant) SlotPolicyEffective() SlotPolicy {
	if db := t.Spec.Database; db != nil && db.SlotPolicy != "" {
		return db.SlotPolicy
	}
	return SlotDropWhenSuspended
}

// SlotDatabaseFor is where the tenant's slot lives per its spec (nil without a database). t must
// be defaulted.
func (t *Tenant) SlotDatabaseFor() *SlotDatabase {
	db := t.Spec.Database
	if db == nil {
		return nil
	}
	return &SlotDatabase{Host: db.Host, Port: db.Port, Name: db.Name, User: db.User, SSLMode: db.SSLMode,
		PasswordSecretRef: db.PasswordSecretRef, Slot: t.SlotName()}
}

// SameSlot reports whether a and b name the same slot in the same database (user, password
// and sslmode may differ: the slot stays).
func (a *SlotDatabase) SameSlot(b *SlotDatabase) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Host == b.Host && a.Port == b.Port && a.Name == b.Name && a.Slot == b.Slot
}
