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

func TestForTenantLongIDsFitPostgres(t *testing.T) {
	long := "a-very-long-tenant-external-id-that-is-a-valid-dns-label-0123456"
	a, b := ForTenant(long), ForTenant(long[:len(long)-1]+"7")
	if len(a) > 63 || len(b) > 63 {
		t.Fatalf("names too long: %d, %d", len(a), len(b))
	}
	if a == b {
		t.Fatalf("distinct ids share a slot name %q", a)
	}
	if ForTenant(long) != a {
		t.Fatal("slot name must be stable")
	}
}
