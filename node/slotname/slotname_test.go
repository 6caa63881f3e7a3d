package slotname

import "testing"

func TestForTenant(t *testing.T) {
	for in, want := range map[string]string{
		"dev":          "supabase_realtime_replication_slot_dev",
		"my-tenant-01": "supabase_realtime_replication_slot_my_tenant_01",
		"":             "supabase_realtime_replication_slot_",
	} {
		if got := ForTenant(in); got != want {
			t.Errorf("ForTenant(%q) = %q, want %q", in, got, want)
		}
	}
}
