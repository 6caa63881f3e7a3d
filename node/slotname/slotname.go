// Package slotname derives the names of the per-tenant logical replication slots (spec 6.5), shared
// by the streaming code that creates them and the Tenant finalizer that drops them.
package slotname

import "strings"

// Prefix is the fixed part of every Postgres Changes slot name.
const Prefix = "supabase_realtime_replication_slot_"

// ForTenant returns the permanent slot name for a tenant: the prefix plus the external id with
// every '-' replaced by '_' (slot names allow only lower-case letters, digits and underscores).
func ForTenant(externalID string) string {
	return Prefix + strings.ReplaceAll(externalID, "-", "_")
}
