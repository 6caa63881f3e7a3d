package conformance

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/pgtest"
)

// dbFixtures are the user-side objects of the database scenarios, created after the node's own
// migrations (schema realtime, roles anon/authenticated, publication supabase_realtime), the way a
// Supabase project owner would create them.
const dbFixtures = `
-- Postgres Changes (docs/protocol.md#postgres-changes): default replica identity, FULL replica identity, and RLS.
create table public.todos (
  id serial primary key, grp text, title text, done bool, n int8, score numeric(10,2),
  tags text[], meta jsonb, due timestamp, created_at timestamptz default now());
create table public.todos_full (
  id serial primary key, grp text, title text, done bool, n int8, score numeric(10,2),
  tags text[], meta jsonb, due timestamp, created_at timestamptz default now());
alter table public.todos_full replica identity full;

create table public.notes (id serial primary key, owner text not null, body text);
alter table public.notes enable row level security;
create policy notes_owner on public.notes for select to authenticated
  using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');

grant select on public.todos, public.todos_full, public.notes to anon, authenticated;
alter publication supabase_realtime add table public.todos, public.todos_full, public.notes;

-- Private channels (docs/protocol.md#private-channels): read on allowed-* and readonly-*, write on allowed-* only.
create policy conformance_read on realtime.messages for select to authenticated
  using (realtime.topic() like 'allowed-%' or realtime.topic() like 'readonly-%');
create policy conformance_write on realtime.messages for insert to authenticated
  with check (realtime.topic() like 'allowed-%');

-- Database broadcasts from a trigger (docs/protocol.md#database-broadcast): each row names the topic it is broadcast to.
create table public.orders (id serial primary key, topic text not null, details text);
create function public.orders_broadcast() returns trigger language plpgsql as $$
begin
  perform realtime.broadcast_changes(coalesce(new.topic, old.topic), tg_op, tg_op,
    tg_table_name, tg_table_schema, new, old);
  return null;
end
$$;
create trigger orders_broadcast after insert or update or delete on public.orders
  for each row execute function public.orders_broadcast();
`

// TestDatabaseJS runs the realtime-js scenarios that need a tenant database: Postgres Changes
// (js/postgres_changes.test.mjs) and private channels with database broadcasts
// (js/private.test.mjs), against one node and one real Postgres.
func TestDatabaseJS(t *testing.T) {
	db := pgtest.Start(t)
	tenants, err := WriteTenants(t.TempDir(), []Tenant{{
		ExternalID: "realtime-dev", JWTSecret: defaultSecret, Limits: generous,
		Database: PGDatabase(db, "postgres", true),
	}})
	if err != nil {
		t.Fatal(err)
	}
	node := StartNode(t, NodeOptions{TenantsFile: tenants, DefaultTenant: "realtime-dev", LogLevel: os.Getenv("RT_NODE_LOG_LEVEL")})
	node.WaitStreaming(t, "realtime-dev", 30*time.Second)
	ExecSQL(t, db.DSN("postgres"), dbFixtures)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("postgres log:\n%s", db.Log())
		}
	})

	env := append(suiteEnv(node, tenants), "RT_DB_URL="+db.DSN("postgres"))
	for _, file := range []string{"postgres_changes.test.mjs", "private.test.mjs"} {
		t.Run(file, func(t *testing.T) { RunJS(t, file, env, 3*time.Minute) })
	}
}

// TestDroppedRelationsJS runs js/postgres_changes_ddl.test.mjs: writes followed at once by
// DROP COLUMN / DROP TABLE must not stall a tenant's stream. Each scenario has its own tenant and
// database, so a stalled stream stays contained to the scenario that caused it.
func TestDroppedRelationsJS(t *testing.T) {
	db := pgtest.Start(t)
	names := map[string]string{"DDL_COLUMN": "ddl-column", "DDL_TABLE": "ddl-table"}
	var ts []Tenant
	for _, id := range names {
		dbName := db.CreateDatabase(t, strings.ReplaceAll(id, "-", "_"))
		ts = append(ts, Tenant{ExternalID: id, JWTSecret: defaultSecret, Limits: generous,
			Database: PGDatabase(db, dbName, true)})
	}
	tenants, err := WriteTenants(t.TempDir(), ts)
	if err != nil {
		t.Fatal(err)
	}
	node := StartNode(t, NodeOptions{TenantsFile: tenants, LogLevel: os.Getenv("RT_NODE_LOG_LEVEL")})
	port := node.Addr[len("127.0.0.1:"):]
	env := []string{
		"RT_HTTP_URL=" + node.HTTPURL,
		"RT_WS_URL=" + node.WSURL("/socket"),
		"RT_JWT_SECRET=" + defaultSecret,
		"RT_TOKEN=" + MustSign([]byte(defaultSecret), Claims(time.Hour)),
	}
	for key, id := range names {
		node.WaitStreaming(t, id, 30*time.Second)
		env = append(env, "RT_HOST_"+key+"="+id+".localhost:"+port,
			"RT_DB_URL_"+key+"="+db.DSN(strings.ReplaceAll(id, "-", "_")))
	}
	RunJS(t, "postgres_changes_ddl.test.mjs", env, 2*time.Minute)
}
