// Package tenant holds the node's view of tenants: their configuration (the same shape as the
// Tenant custom resource), the limits that apply to them, and the sources they are read from.
package tenant

import (
	"encoding/json"
	"time"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// Tenant is the resolved configuration of one tenant, with Secret references already resolved.
// It is immutable once published by a Source: a change produces a new *Tenant.
type Tenant struct {
	// ExternalID is the first DNS label of the Host clients connect to.
	ExternalID string
	// Namespace and Name identify the Tenant document/resource this came from.
	Namespace, Name string

	Suspend         bool
	PrivateOnly     bool
	PresenceEnabled bool

	// JWTSecret is the HS256/384/512 secret; may be empty when JWKS is set.
	JWTSecret []byte `json:"-"`
	// JWKS is the raw JSON Web Key Set ({"keys":[...]}) or nil.
	JWKS json.RawMessage `json:"-"`

	// Database is nil when the tenant has no database (Broadcast/Presence only).
	Database *Database

	PostgresChanges bool
	Limits          Limits

	// FailoverDelay is added to lease expiry before the operator moves WAL work.
	FailoverDelay time.Duration
}

// Database describes a tenant's Postgres database, with the password resolved.
type Database struct {
	Host     string
	Port     int
	Name     string
	User     string
	Password string `json:"-"`
	SSLMode  string
	Region   string
}

// Limits are the per-tenant limits of docs/protocol.md#limits, resolved from realtimev1.TenantLimits (which
// owns the field names and the defaults); all positive after Defaulted.
type Limits struct {
	MaxConcurrentUsers               int
	MaxEventsPerSecond               int
	MaxJoinsPerSecond                int
	MaxChannelsPerClient             int
	MaxBytesPerSecond                int
	MaxPresenceEventsPerSecond       int
	MaxPayloadSizeKB                 int
	MaxClientPresenceEventsPerWindow int
	ClientPresenceWindowMS           int
}

// DefaultLimits are upstream's defaults (docs/protocol.md#tenant-settings and #environment), as the CRD declares them.
var DefaultLimits = limitsFrom(realtimev1.DefaultTenantLimits)

// limitsFrom converts the spec's limits into the node's.
func limitsFrom(l realtimev1.TenantLimits) Limits {
	return Limits{
		MaxConcurrentUsers:               int(l.MaxConcurrentUsers),
		MaxEventsPerSecond:               int(l.MaxEventsPerSecond),
		MaxJoinsPerSecond:                int(l.MaxJoinsPerSecond),
		MaxChannelsPerClient:             int(l.MaxChannelsPerClient),
		MaxBytesPerSecond:                int(l.MaxBytesPerSecond),
		MaxPresenceEventsPerSecond:       int(l.MaxPresenceEventsPerSecond),
		MaxPayloadSizeKB:                 int(l.MaxPayloadSizeInKb),
		MaxClientPresenceEventsPerWindow: int(l.MaxClientPresenceEventsPerWindow),
		ClientPresenceWindowMS:           int(l.ClientPresenceWindowMs),
	}
}

// Defaulted returns l with every zero field replaced by its default.
func (l Limits) Defaulted() Limits {
	pick := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	d := DefaultLimits
	return Limits{
		MaxConcurrentUsers:               pick(l.MaxConcurrentUsers, d.MaxConcurrentUsers),
		MaxEventsPerSecond:               pick(l.MaxEventsPerSecond, d.MaxEventsPerSecond),
		MaxJoinsPerSecond:                pick(l.MaxJoinsPerSecond, d.MaxJoinsPerSecond),
		MaxChannelsPerClient:             pick(l.MaxChannelsPerClient, d.MaxChannelsPerClient),
		MaxBytesPerSecond:                pick(l.MaxBytesPerSecond, d.MaxBytesPerSecond),
		MaxPresenceEventsPerSecond:       pick(l.MaxPresenceEventsPerSecond, d.MaxPresenceEventsPerSecond),
		MaxPayloadSizeKB:                 pick(l.MaxPayloadSizeKB, d.MaxPayloadSizeKB),
		MaxClientPresenceEventsPerWindow: pick(l.MaxClientPresenceEventsPerWindow, d.MaxClientPresenceEventsPerWindow),
		ClientPresenceWindowMS:           pick(l.ClientPresenceWindowMS, d.ClientPresenceWindowMS),
	}
}

// MaxPayloadBytes is the largest accepted message payload: kb*1000 + 500 (docs/protocol.md#client-broadcast).
func (l Limits) MaxPayloadBytes() int { return l.MaxPayloadSizeKB*1000 + 500 }

// Event says what happened to a tenant in a Source.
type Event struct {
	// Old is nil for a new tenant; New is nil for a deleted one.
	Old, New *Tenant
}

// Registry is the node's read view of tenants. Implementations: the file source (standalone)
// and the Kubernetes source (operator-managed pods).
type Registry interface {
	// Get returns the tenant with the given external id.
	Get(externalID string) (*Tenant, bool)
	// Subscribe registers fn for every later change; fn must not block.
	Subscribe(fn func(Event))
}
