package v1alpha1

import "k8s.io/apimachinery/pkg/api/resource"

// DefaultTenantLimits are the tenant defaults (docs/protocol.md#tenant-settings and #limits),
// mirrored by the +kubebuilder:default markers.
var DefaultTenantLimits = TenantLimits{
	MaxConcurrentUsers:               200,
	MaxEventsPerSecond:               100,
	MaxJoinsPerSecond:                100,
	MaxChannelsPerClient:             100,
	MaxBytesPerSecond:                100000,
	MaxPresenceEventsPerSecond:       1000,
	MaxPayloadSizeInKb:               3000,
	MaxClientPresenceEventsPerWindow: 5,
	ClientPresenceWindowMs:           30000,
}

// Default database settings.
const (
	DefaultDatabasePort    int32 = 5432
	DefaultDatabaseName          = "postgres"
	DefaultDatabaseUser          = "postgres"
	DefaultDatabaseSSLMode       = "require"
	DefaultMaxSlotLag            = "1Gi"
)

// Default fills the unset fields of the spec with their defaults.
func (t *Tenant) Default() {
	s := &t.Spec
	if s.PostgresChanges.Enabled == nil {
		s.PostgresChanges.Enabled = ptrTo(true)
	}
	if db := s.Database; db != nil {
		if db.Port == 0 {
			db.Port = DefaultDatabasePort
		}
		if db.Name == "" {
			db.Name = DefaultDatabaseName
		}
		if db.User == "" {
			db.User = DefaultDatabaseUser
		}
		if db.SSLMode == "" {
			db.SSLMode = DefaultDatabaseSSLMode
		}
		if db.MaxSlotLag == nil {
			q := resource.MustParse(DefaultMaxSlotLag)
			db.MaxSlotLag = &q
		}
		if db.SlotPolicy == "" {
			db.SlotPolicy = SlotDropWhenSuspended
		}
	}
	s.Limits = s.Limits.Defaulted()
}

// Defaulted returns l with every zero field replaced by its default.
func (l TenantLimits) Defaulted() TenantLimits {
	d := DefaultTenantLimits
	pick := func(v, def int32) int32 {
		if v > 0 {
			return v
		}
		return def
	}
	return TenantLimits{
		MaxConcurrentUsers:               pick(l.MaxConcurrentUsers, d.MaxConcurrentUsers),
		MaxEventsPerSecond:               pick(l.MaxEventsPerSecond, d.MaxEventsPerSecond),
		MaxJoinsPerSecond:                pick(l.MaxJoinsPerSecond, d.MaxJoinsPerSecond),
		MaxChannelsPerClient:             pick(l.MaxChannelsPerClient, d.MaxChannelsPerClient),
		MaxBytesPerSecond:                pick(l.MaxBytesPerSecond, d.MaxBytesPerSecond),
		MaxPresenceEventsPerSecond:       pick(l.MaxPresenceEventsPerSecond, d.MaxPresenceEventsPerSecond),
		MaxPayloadSizeInKb:               pick(l.MaxPayloadSizeInKb, d.MaxPayloadSizeInKb),
		MaxClientPresenceEventsPerWindow: pick(l.MaxClientPresenceEventsPerWindow, d.MaxClientPresenceEventsPerWindow),
		ClientPresenceWindowMs:           pick(l.ClientPresenceWindowMs, d.ClientPresenceWindowMs),
	}
}
