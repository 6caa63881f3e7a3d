// Package slotname derives the names of the per-tenant logical replication slots (docs/protocol.md#wal-stream), shared
// by the streaming code that creates them and the Tenant finalizer that drops them.
package slotname

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Prefix is the fixed part of every Postgres Changes slot name.
const Prefix = "supabase_realtime_replication_slot_"

// maxLen is Postgres's identifier limit (NAMEDATALEN - 1); longer slot names are refused.
const maxLen = 63

// ForTenant returns the permanent slot name for a tenant: the prefix plus the external id with
// every '-' replaced by '_' (slot names allow only lower-case letters, digits and underscores).
// Ids too long for that (over 28 characters) keep a prefix of the id plus a hash of all of it, so
// the name stays unique and within Postgres's 63-byte limit.
func ForTenant(externalID string) string {
	id := strings.ReplaceAll(strings.ToLower(externalID), "-", "_")
	if len(Prefix)+len(id) <= maxLen {
		return Prefix + id
	}
	h := fnv.New32a()
	h.Write([]byte(externalID))
	suffix := fmt.Sprintf("_%08x", h.Sum32())
	return Prefix + id[:maxLen-len(Prefix)-len(suffix)] + suffix
}
