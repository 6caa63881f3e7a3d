package tenantdb

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/realtimeops/realtime/internal/pgtest"
)

// The SQL API of docs/protocol.md#database-broadcast and the subscription trigger of #filters and #subscriptions, on one migrated database.
func TestTenantSQLContract(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	pool := migratedPool(t, inst, "tenant")
	ctx := context.Background()

	t.Run("send injects id", func(t *testing.T) {
		if _, err := pool.Exec(ctx, `select realtime.send('{"a":1}', 'ev', 'room1')`); err != nil {
			t.Fatal(err)
		}
		var id, payload, event, ext string
		var private bool
		err := pool.QueryRow(ctx, `select id::text, payload::text, event, extension, private
			from realtime.messages where topic = 'room1'`).Scan(&id, &payload, &event, &ext, &private)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(payload), &body); err != nil {
			t.Fatal(err)
		}
		if body["id"] != id || body["a"] != float64(1) || event != "ev" || ext != "broadcast" || !private {
			t.Fatalf("row id=%s payload=%s event=%s ext=%s private=%v", id, payload, event, ext, private)
		}
	})

	t.Run("send keeps caller id and honours private=false", func(t *testing.T) {
		if _, err := pool.Exec(ctx, `select realtime.send('{"id":"mine"}', 'ev', 'room2', false)`); err != nil {
			t.Fatal(err)
		}
		var payload string
		var private bool
		if err := pool.QueryRow(ctx, `select payload::text, private from realtime.messages where topic = 'room2'`).
			Scan(&payload, &private); err != nil {
			t.Fatal(err)
		}
		if payload != `{"id": "mine"}` || private {
			t.Fatalf("payload %s private %v", payload, private)
		}
	})

	t.Run("send_binary", func(t *testing.T) {
		if _, err := pool.Exec(ctx, `select realtime.send_binary('\x0102ff'::bytea, 'bin', 'room3')`); err != nil {
			t.Fatal(err)
		}
		var b []byte
		var payloadNull bool
		if err := pool.QueryRow(ctx, `select binary_payload, payload is null from realtime.messages where topic = 'room3'`).
			Scan(&b, &payloadNull); err != nil {
			t.Fatal(err)
		}
		if string(b) != "\x01\x02\xff" || !payloadNull {
			t.Fatalf("binary %x payload null %v", b, payloadNull)
		}
	})

	t.Run("send failure is a warning", func(t *testing.T) {
		var notices []string
		c2cfg, _ := pgx.ParseConfig(inst.DSN("tenant"))
		c2cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Severity+" "+n.Message) }
		c2, err := pgx.ConnectConfig(ctx, c2cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close(ctx)
		// No partition covers 1999: the insert fails, the caller's statement must not.
		if _, err := c2.Exec(ctx, `begin; set local timezone = 'UTC';`); err != nil {
			t.Fatal(err)
		}
		if _, err := c2.Exec(ctx, `alter table realtime.messages alter column inserted_at set default '1999-01-01'`); err != nil {
			t.Fatal(err)
		}
		if _, err := c2.Exec(ctx, `select realtime.send('{}', 'ev', 'room4')`); err != nil {
			t.Fatalf("send raised: %v", err)
		}
		if _, err := c2.Exec(ctx, `rollback`); err != nil {
			t.Fatal(err)
		}
		if len(notices) != 1 || !strings.HasPrefix(notices[0], "WARNING WarnSendingBroadcastMessage: no partition") {
			t.Fatalf("notices = %q", notices)
		}
	})

	t.Run("broadcast_changes", func(t *testing.T) {
		_, err := pool.Exec(ctx, `
			create table public.orders (id int primary key, details text);
			create function public.orders_bc() returns trigger language plpgsql security definer as $$
			begin
			  perform realtime.broadcast_changes('orders', TG_OP, TG_OP, TG_TABLE_NAME, TG_TABLE_SCHEMA, NEW, OLD);
			  return null;
			end $$;
			create trigger orders_bc after insert or update or delete on public.orders
			  for each row execute function public.orders_bc();
			insert into public.orders values (1, 'x');
			update public.orders set details = 'y';
			delete from public.orders;`)
		if err != nil {
			t.Fatal(err)
		}
		rows := queryStrings(t, pool, `select event || ' ' || (payload - 'id')::text from realtime.messages
			where topic = 'orders' and private order by inserted_at, event desc`)
		want := []string{
			`INSERT {"table": "orders", "record": {"id": 1, "details": "x"}, "schema": "public", "operation": "INSERT", "old_record": null}`,
			`UPDATE {"table": "orders", "record": {"id": 1, "details": "y"}, "schema": "public", "operation": "UPDATE", "old_record": {"id": 1, "details": "x"}}`,
			`DELETE {"table": "orders", "record": null, "schema": "public", "operation": "DELETE", "old_record": {"id": 1, "details": "y"}}`,
		}
		if len(rows) != 3 {
			t.Fatalf("rows = %q", rows)
		}
		for _, w := range want {
			if !contains(rows, w) {
				t.Errorf("missing %s in %q", w, rows)
			}
		}
		if _, err := pool.Exec(ctx, `select realtime.broadcast_changes('t','e','TRUNCATE','x','public',null,null)`); err == nil {
			t.Error("TRUNCATE accepted")
		}
	})

	t.Run("subscription trigger validates and sorts", func(t *testing.T) {
		_, err := pool.Exec(ctx, `create table public.todos (id int primary key, title text, n int, done bool, meta jsonb);
			grant select on public.todos to authenticated`)
		if err != nil {
			t.Fatal(err)
		}
		ins := `insert into realtime.subscription (subscription_id, entity, filters, claims, action_filter, selected_columns)
			values (gen_random_uuid(), 'public.todos', $1::realtime.user_defined_filter[], '{"role":"authenticated"}', '*', $2)
			returning filters::text, coalesce(selected_columns::text, ''), claims_role::text`
		var filters, sel, role string
		if err := pool.QueryRow(ctx, ins, `{"(title,eq,b,f)","(n,in,\"{1,2}\",f)","(done,is,true,t)","(meta->>k,like,x%,f)"}`,
			[]string{"title", "id"}).Scan(&filters, &sel, &role); err != nil {
			t.Fatalf("valid subscription rejected: %v", err)
		}
		if filters != `{"(done,is,true,t)","(meta->>k,like,x%,f)","(n,in,\"{1,2}\",f)","(title,eq,b,f)"}` || sel != "{id,title}" || role != "authenticated" {
			t.Fatalf("filters %s selected %s role %s", filters, sel, role)
		}
		bad := map[string]string{
			`{"(nope,eq,1,f)"}`:      "invalid column for filter nope",
			`{"(n,eq,abc,f)"}`:       "invalid input syntax for type integer",
			`{"(n,is,true,f)"}`:      "is true filter requires a boolean column, got integer",
			`{"(title,is,maybe,f)"}`: "invalid value for is filter",
			`{"(n,like,1,f)"}`:       "operator like requires a text-compatible column type, got integer",
			`{"(title,match,(,f)"}`:  "invalid regular expression for match filter",
			`{"(title->>k,eq,1,f)"}`: "jsonb filter requires a jsonb column, got text",
		}
		for f, want := range bad {
			_, err := pool.Exec(ctx, strings.Replace(ins, "returning filters::text, coalesce(selected_columns::text, ''), claims_role::text", "", 1), f, nil)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("filter %s: err %v, want %q", f, err, want)
			}
		}
	})
}

func TestPartitions(t *testing.T) {
	t.Parallel()
	inst := pgtest.Start(t)
	inst.CreateDatabase(t, "tenant")
	pool := testPool(t, inst, "tenant")
	ctx := context.Background()
	if _, err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2026, 1, 10, 23, 0, 0, 0, time.UTC)
	for _, now := range []time.Time{old, time.Now()} {
		if err := EnsurePartitionsAt(ctx, pool, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := EnsurePartitionsAt(ctx, pool, old); err != nil { // idempotent
		t.Fatal(err)
	}
	names := queryStrings(t, pool, `select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid
		where i.inhparent = 'realtime.messages'::regclass and c.relname < 'messages_2026_02' order by 1`)
	want := []string{"messages_2026_01_09", "messages_2026_01_10", "messages_2026_01_11", "messages_2026_01_12", "messages_2026_01_13"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("partitions = %v", names)
	}
	// Rows land in the partition of their UTC day.
	if _, err := pool.Exec(ctx, `insert into realtime.messages (topic, extension, inserted_at) values ('t', 'broadcast', '2026-01-11 23:59:59')`); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, pool, `select tableoid::regclass::text from realtime.messages`); got[0] != "realtime.messages_2026_01_11" {
		t.Fatalf("row in %v", got)
	}
	dropped, err := DropPartitionsBefore(ctx, pool, time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(dropped, ",") != "messages_2026_01_09,messages_2026_01_10,messages_2026_01_11" {
		t.Fatalf("dropped %v", dropped)
	}
	var pgErr *pgconn.PgError
	_, err = pool.Exec(ctx, `insert into realtime.messages (topic, extension, inserted_at) values ('t', 'broadcast', '2026-01-10 12:00')`)
	if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
		t.Fatalf("insert without partition: %v", err)
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
