package changes

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const filterSQL = `
create table public.items (id int4 primary key, details text, n numeric, flag bool, at timestamptz);
alter table public.items replica identity full;
grant select on public.items to anon, authenticated;
alter publication supabase_realtime add table public.items;
`

// Each operator gets one subscriber; every row is inserted, updated and deleted; a subscriber must
// receive exactly the three changes of the rows it matches.
func TestFilterOperatorsEndToEnd(t *testing.T) {
	e := newEnv(t, filterSQL)
	cases := []struct {
		filter string
		match  []int // ids of the rows below that match
	}{
		{"id=eq.2", []int{2}},
		{"id=neq.2", []int{1, 3, 4}},
		{"id=lt.2", []int{1}},
		{"id=lte.2", []int{1, 2}},
		{"id=gt.3", []int{4}},
		{"id=gte.3", []int{3, 4}},
		{"details=in.(keep,\"a,b\")", []int{1, 4}},
		{"details=like.ke%", []int{1}},
		{"details=ilike.KE%", []int{1, 3}},
		{"details=is.null", []int{2}},
		{"details=not.is.null", []int{1, 3, 4}},
		{"details=match.^k.*p$", []int{1}},
		{"details=imatch.^K", []int{1, 3}},
		{"details=isdistinct.keep", []int{2, 3, 4}},
		{"details=not.eq.skip", []int{1, 3, 4}},
		{"n=gt.1.5", []int{3}},
		{"flag=is.true", []int{1}},
		{"at=gte.2024-01-02T00:00:00Z", []int{2, 3}},
		{"details=eq.keep,id=gt.0", []int{1}},
	}
	recs := make([]*recorder, len(cases))
	for i, c := range cases {
		recs[i], _ = e.subscribe(t, anon, fmt.Sprintf(`[{"event":"*","schema":"public","table":"items","filter":%q}]`, c.filter))
	}
	for _, r := range recs {
		r.waitSubscribed(t)
	}
	e.exec(t, `insert into public.items values
	  (1, 'keep', 1, true, '2024-01-01 00:00:00+00'),
	  (2, null, 1.5, false, '2024-01-02 00:00:00+00'),
	  (3, 'KEEPER', 2, null, '2024-01-03 00:00:00+00'),
	  (4, 'a,b', 0, false, null)`)
	e.exec(t, `update public.items set n = n where true`)
	e.exec(t, `delete from public.items`)
	// A sentinel subscriber without filter sees all 12 changes; once it has, the others are done.
	all, _ := e.subscribe(t, anon, `[{"event":"*","schema":"public","table":"items"}]`)
	all.waitSubscribed(t)
	e.exec(t, `insert into public.items values (99, 'sentinel', 0, false, null)`)
	all.waitChanges(t, 1)
	time.Sleep(200 * time.Millisecond)
	for i, c := range cases {
		got, sys := recs[i].snapshot()
		var ids []string
		for _, d := range got {
			if id := idOf(d.data); id != "INSERT:99" { // the sentinel row
				ids = append(ids, id)
			}
		}
		var want []string
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			for _, id := range c.match {
				want = append(want, fmt.Sprintf("%s:%d", op, id))
			}
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("filter %q: got %v, want %v (system %v)", c.filter, ids, want, sys)
		}
	}
}

// idOf extracts "TYPE:id" from a data object (record for INSERT/UPDATE, old_record for DELETE).
func idOf(data string) string {
	typ := data[strings.LastIndex(data, `"type":"`)+8 : len(data)-2]
	key := `"record":{"id":`
	if typ == "DELETE" {
		key = `"old_record":{"id":`
	}
	i := strings.Index(data, key) + len(key)
	j := i
	for j < len(data) && data[j] >= '0' && data[j] <= '9' {
		j++
	}
	return typ + ":" + data[i:j]
}

func TestSubscribeErrors(t *testing.T) {
	e := newEnv(t, filterSQL)
	cases := []struct{ binding, want string }{
		{`{"event":"INSERT","schema":"public","table":"items","filter":"wrong"}`, "error: Error parsing `filter` params: [\"wrong\"]"},
		{`{"event":"INSERT","schema":"public","table":"doesnotexist"}`,
			"error: Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: INSERT, schema: public, table: doesnotexist, filters: [], select: nil]"},
		{`{"event":"INSERT","schema":"public","table":"items","filter":"notacolumn=eq.1"}`,
			"error: Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [event: INSERT, schema: public, table: items, filters: [{\"notacolumn\", \"eq\", \"1\", false}], select: nil]. Exception: ERROR P0001 (raise_exception) invalid column for filter notacolumn"},
		{`{"event":"*","schema":"public","table":"items","filter":"id=eq.abc"}`,
			"error: Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [event: *, schema: public, table: items, filters: [{\"id\", \"eq\", \"abc\", false}], select: nil]. Exception: ERROR 22P02 (invalid_text_representation) invalid input syntax for type integer: \"abc\""},
		{`{"event":"*","schema":"public","table":"items","filter":"id=like.1%"}`,
			"error: Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [event: *, schema: public, table: items, filters: [{\"id\", \"like\", \"1%\", false}], select: nil]. Exception: ERROR 42883 (undefined_function) operator does not exist: integer ~~ text"},
	}
	for _, c := range cases {
		rec, _ := e.subscribe(t, anon, "["+c.binding+"]")
		rec.waitFor(t, c.want, 20*time.Second, func() bool { return len(rec.system) > 0 })
		if _, sys := rec.snapshot(); sys[0] != c.want {
			t.Errorf("binding %s:\n got %q\nwant %q", c.binding, sys[0], c.want)
		}
	}
}
