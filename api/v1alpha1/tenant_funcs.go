package v1alpha1

import (
	"time"

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
