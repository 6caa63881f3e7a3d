package changes

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

const likeTablesSQL = `
create table public.todo_a (id int4 primary key);
create table public.todo_b (id int4 primary key);
create table public.todoxc (id int4 primary key);
create table public.other (id int4 primary key);
grant select on public.todo_a, public.todo_b, public.todoxc, public.other to anon;
alter publication supabase_realtime add table public.todo_a, public.todo_b, public.todoxc, public.other;
`

// TestBindingNamesMatchLikeUpstream: binding schema and table names are SQL LIKE patterns as in
// upstream's subscription insert: % and _ are wildcards, resolved when the channel subscribes.
func TestBindingNamesMatchLikeUpstream(t *testing.T) {
	e := newEnv(t, likeTablesSQL)
	prefix, _ := e.subscribe(t, anon, `[{"event":"INSERT","schema":"public","table":"todo%"}]`)
	underscore, _ := e.subscribe(t, anon, `[{"event":"INSERT","schema":"p_blic","table":"todo_c"}]`)
	exact, _ := e.subscribe(t, anon, `[{"event":"INSERT","schema":"public","table":"other"}]`)
	for _, r := range []*recorder{prefix, underscore, exact} {
		r.waitSubscribed(t)
	}
	none, _ := e.subscribe(t, anon, `[{"event":"INSERT","schema":"public","table":"nothing%"}]`)
	none.waitFor(t, "refusal", 20*time.Second, func() bool { return len(none.system) > 0 })
	if _, sys := none.snapshot(); !strings.HasPrefix(sys[0], "error: Unable to subscribe to changes with given parameters") {
		t.Errorf("pattern matching no table: %v", sys)
	}
	for _, tb := range []string{"todo_a", "todo_b", "todoxc", "other"} {
		e.exec(t, "insert into public."+tb+" values (1)")
	}
	check := func(name string, r *recorder, want ...string) {
		t.Helper()
		r.waitChanges(t, len(want))
		time.Sleep(200 * time.Millisecond)
		got, _ := r.snapshot()
		var tables []string
		for _, d := range got {
			var m struct {
				Table string `json:"table"`
			}
			_ = json.Unmarshal([]byte(d.data), &m)
			tables = append(tables, m.Table)
		}
		sort.Strings(tables)
		if strings.Join(tables, ",") != strings.Join(want, ",") {
			t.Errorf("%s got %v, want %v", name, tables, want)
		}
	}
	check("todo%", prefix, "todo_a", "todo_b", "todoxc")
	check("p_blic.todo_c", underscore, "todoxc")
	check("other", exact, "other")
}
