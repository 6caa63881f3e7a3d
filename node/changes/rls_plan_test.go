package changes

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestRLSPlanProbesThePrimaryKey: the RLS statement (rlsSQL) is planned as one primary-key index
// probe per key, never as a scan of the table, whatever the number of keys and whether Postgres
// uses a custom or a generic plan (pgx prepares the statement; after five executions Postgres
// may switch to a generic plan). A scan would make each claims group of each batch cost the whole
// table (docs/benchmarks.md, "RLS plans"). Run with -v to print the plans.
func TestRLSPlanProbesThePrimaryKey(t *testing.T) {
	e := newEnv(t, `
create table public.plan (id int8 primary key, n int4);
grant select on public.plan to authenticated;
alter table public.plan enable row level security;
create policy team on public.plan for select to authenticated
  using (n = ((select current_setting('request.jwt.claims', true))::json->>'team')::int4);
insert into public.plan select g, g % 10 from generate_series(1, 10000) g;
analyze public.plan;
create table public.plan2 (a text, b int4, n int4, primary key (a, b));
grant select on public.plan2 to authenticated;
alter table public.plan2 enable row level security;
create policy team on public.plan2 for select to authenticated
  using (n = ((select current_setting('request.jwt.claims', true))::json->>'team')::int4);
insert into public.plan2 select 'k' || (g % 100), g, g % 10 from generate_series(1, 10000) g;
analyze public.plan2;`)
	single := &relation{quoted: `"public"."plan"`, cols: []column{{name: "id"}}, pk: []int{0}, pkCast: []string{"bigint"}}
	composite := &relation{quoted: `"public"."plan2"`, cols: []column{{name: "a"}, {name: "b"}},
		pk: []int{0, 1}, pkCast: []string{"text", "integer"}}
	keys := func(rel *relation, n int) []any {
		cols := make([][]string, len(rel.pk))
		for i := range n {
			if len(rel.pk) == 1 {
				cols[0] = append(cols[0], fmt.Sprint(i+1))
			} else {
				cols[0] = append(cols[0], fmt.Sprintf("k%d", (i+1)%100))
				cols[1] = append(cols[1], fmt.Sprint(i+1))
			}
		}
		var args []any
		for _, c := range cols {
			args = append(args, c)
		}
		return args
	}
	for _, rel := range []*relation{single, composite} {
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			for _, n := range []int{2, 10000} {
				plan, visible := explainRLS(t, e, rel, mode, keys(rel, n))
				name := fmt.Sprintf("%s, %s, %d keys", rel.quoted, mode, n)
				t.Logf("%s: %d visible\n%s", name, visible, plan)
				if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Bitmap Heap Scan") ||
					!strings.Contains(plan, "Index Scan using plan") {
					t.Errorf("%s: the RLS statement does not probe the primary key once per key:\n%s", name, plan)
				}
				if want := n / 10; n > 10 && (visible < want-1 || visible > want+1) {
					t.Errorf("%s: %d keys visible, want about %d (team 3 of 10)", name, visible, want)
				}
			}
		}
	}
}

// explainRLS runs rlsSQL(rel) as the benchmark's subscribers would (role authenticated, claims of
// team 3) under EXPLAIN ANALYZE and returns the plan and how many keys were visible.
func explainRLS(t *testing.T, e *env, rel *relation, mode string, args []any) (string, int) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, q := range []string{
		"select set_config('role', 'authenticated', true)",
		`select set_config('request.jwt.claims', '{"role":"authenticated","sub":"u","team":"3"}', true)`,
		"select set_config('plan_cache_mode', '" + mode + "', true)",
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Prepared, as pgx runs it in the worker, so force_generic_plan takes effect.
	name := strings.NewReplacer(`"`, "", ".", "_").Replace(rel.quoted) + "_" + mode
	if _, err := tx.Prepare(ctx, name, rlsSQL(rel)); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	// EXECUTE takes no bind parameters: the arrays go in as literals.
	lits := make([]string, len(args))
	for i, a := range args {
		var elems []string
		for _, v := range a.([]string) {
			elems = append(elems, `"`+v+`"`) // test keys: no quotes or backslashes inside
		}
		lits[i] = "'{" + strings.Join(elems, ",") + "}'"
	}
	rows, err := tx.Query(ctx, "explain (analyze, buffers, timing off) execute "+name+"("+strings.Join(lits, ", ")+")")
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	var plan []string
	visible := -1
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
		if strings.HasPrefix(line, "Nested Loop") || strings.HasPrefix(line, "Hash") || strings.HasPrefix(line, "Merge") {
			if i := strings.Index(line, "(actual rows="); i >= 0 {
				_, _ = fmt.Sscanf(line[i:], "(actual rows=%d", &visible)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return strings.Join(plan, "\n"), visible
}
