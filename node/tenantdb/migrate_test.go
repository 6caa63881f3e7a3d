package tenantdb

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/realtimeops/realtime/internal/pgtest"
)

func TestMigrationsFilesParse(t *testing.T) {
	ms := Migrations()
	if len(ms) == 0 {
		t.Fatal("no embedded migrations")
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Fatalf("versions not strictly increasing: %d then %d", ms[i-1].Version, ms[i].Version)
		}
	}
	for _, bad := range []string{"x.sql", "12.sql", "abc_x.sql", "1_x.txt"} {
		if _, err := parseMigration(bad); err == nil {
			t.Errorf("parseMigration(%q) accepted", bad)
		}
	}
}

func TestMigrateInstallsContractAndIsIdempotent(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	inst.CreateDatabase(t, "tenant")
	pool := testPool(t, inst, "tenant")
	ctx := context.Background()

	n, err := Migrate(ctx, pool)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if n != len(Migrations()) {
		t.Fatalf("applied %d, want %d", n, len(Migrations()))
	}
	n, err = Migrate(ctx, pool)
	if err != nil || n != 0 {
		t.Fatalf("second migrate: applied %d, err %v", n, err)
	}
	if pending, err := Pending(ctx, pool); err != nil || pending {
		t.Fatalf("Pending = %v, %v", pending, err)
	}
	// Re-running every file on an already migrated schema must also work (tenants whose schema
	// was created by another tool, or a lost schema_migrations row).
	for _, m := range Migrations() {
		if _, err := pool.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("re-run %d_%s: %v", m.Version, m.Name, err)
		}
	}

	want := map[string]string{
		"schema":        `select nspname::text from pg_namespace where nspname = 'realtime'`,
		"messages":      `select relkind::text from pg_class where oid = 'realtime.messages'::regclass and relrowsecurity`,
		"subscription":  `select 'subscription' from pg_class where oid = 'realtime.subscription'::regclass`,
		"publication":   `select pubname::text from pg_publication where pubname = 'supabase_realtime'`,
		"index":         `select indexrelid::regclass::text from pg_index where indrelid = 'realtime.messages'::regclass and indexrelid::regclass::text like '%inserted_at_topic%'`,
		"exclusive":     `select conname::text from pg_constraint where conname = 'messages_payload_exclusive'`,
		"topic":         `select 'realtime.topic'::regproc::text`,
		"send":          `select 'realtime.send(jsonb,text,text,boolean)'::regprocedure::text`,
		"send_binary":   `select 'realtime.send_binary(bytea,text,text,boolean)'::regprocedure::text`,
		"broadcast_chg": `select 'realtime.broadcast_changes(text,text,text,text,text,record,record,text)'::regprocedure::text`,
		"equality_op":   `select string_agg(e, ',') from unnest(enum_range(null::realtime.equality_op)::text[]) e`,
	}
	for name, sql := range want {
		if got := queryStrings(t, pool, sql); len(got) != 1 || got[0] == "" {
			t.Errorf("%s: got %v", name, got)
		}
	}
	roles := queryStrings(t, pool, `select rolname::text from pg_roles
		where rolname in ('anon','authenticated','service_role') and not rolcanlogin order by 1`)
	if !slices.Equal(roles, []string{"anon", "authenticated", "service_role"}) {
		t.Errorf("roles = %v", roles)
	}
	grants := queryStrings(t, pool, `select privilege_type::text from information_schema.role_table_grants
		where table_schema = 'realtime' and table_name = 'messages' and grantee = 'authenticated' order by 1`)
	if !slices.Equal(grants, []string{"INSERT", "SELECT", "UPDATE"}) {
		t.Errorf("grants to authenticated = %v", grants)
	}
	cols := queryStrings(t, pool, `select attname::text || ':' || format_type(atttypid, atttypmod)
		from pg_attribute where attrelid = 'realtime.subscription'::regclass and attnum > 0 and not attisdropped order by attnum`)
	wantCols := []string{"id:bigint", "subscription_id:uuid", "entity:regclass",
		"filters:realtime.user_defined_filter[]", "claims:jsonb", "claims_role:regrole",
		"created_at:timestamp without time zone", "action_filter:text", "selected_columns:text[]"}
	if !slices.Equal(cols, wantCols) {
		t.Errorf("subscription columns = %v", cols)
	}
}

// Several nodes start the same tenant at once: every one must succeed and each version must be
// applied exactly once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	inst.CreateDatabase(t, "tenant")
	ctx := context.Background()
	var wg sync.WaitGroup
	applied := make([]int, 4)
	errs := make([]error, 4)
	for i := range 4 {
		pool := testPool(t, inst, "tenant") // separate pools: separate connections
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = Migrate(ctx, pool)
			if errs[i] == nil {
				errs[i] = EnsurePartitions(ctx, pool)
			}
		}()
	}
	wg.Wait()
	total := 0
	for i := range 4 {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	if total != len(Migrations()) {
		t.Fatalf("applied %d migrations in total, want %d", total, len(Migrations()))
	}
	pool := testPool(t, inst, "tenant")
	if got := queryStrings(t, pool, `select count(*)::text from realtime.schema_migrations`); got[0] != strconv.Itoa(len(Migrations())) {
		t.Fatalf("schema_migrations rows = %s", got[0])
	}
}

// Two tenant databases on one cluster migrate at the same time: role creation (cluster-wide)
// must not make one of them fail.
func TestMigrateTwoDatabasesSameCluster(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 4 {
		db := inst.CreateDatabase(t, "tenant_"+strconv.Itoa(i))
		pool := testPool(t, inst, db)
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = Migrate(ctx, pool) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("database %d: %v", i, err)
		}
	}
}
