package changes

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/realtimeops/realtime/internal/pgtest"
	"golang.org/x/sync/errgroup"
)

// completenessSQL: an owner-based RLS table (policy as Supabase writes it, auth.uid() = owner),
// an RLS table every authenticated user may read, and a table without RLS.
const completenessSQL = `
create schema if not exists auth;
create or replace function auth.uid() returns text language sql stable as
  $$ select nullif(current_setting('request.jwt.claims', true)::json->>'sub', '') $$;
grant usage on schema auth to anon, authenticated;
create table public.owned (id int4 primary key, owner text not null, body text);
create table public.shared (id int4 primary key, owner text not null, body text);
create table public.plain (id int4 primary key, owner text not null, body text);
alter table public.owned enable row level security;
alter table public.shared enable row level security;
create policy own on public.owned for select to authenticated using (auth.uid() = owner);
create policy everyone on public.shared for select to authenticated using (true);
grant select on public.owned, public.shared, public.plain to anon, authenticated;
alter publication supabase_realtime add table public.owned, public.shared, public.plain;
`

// completenessLoad is the write load of TestDeliveryCompleteness: per table, inserts single-row
// autocommit statements from writers connections, then updates every third row once.
type completenessLoad struct {
	rows, writers int
	users         []string
}

// op is one committed statement as a subscriber sees it: "table op id body".
func opKey(table, op string, id int, body string) string {
	return fmt.Sprintf("%s %s %d %s", table, op, id, body)
}

func (l completenessLoad) ownerOf(id int) string { return l.users[id%len(l.users)] }

// run executes the load and returns every committed change as an opKey with its row's owner.
func (l completenessLoad) run(ctx context.Context, pool *pgxpool.Pool, syncCommit string) (map[string]string, error) {
	var mu sync.Mutex
	committed := map[string]string{}
	g, ctx := errgroup.WithContext(ctx)
	for w := 0; w < l.writers; w++ {
		g.Go(func() error {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, "select set_config('synchronous_commit', $1, false)", syncCommit); err != nil {
				return err
			}
			for _, table := range []string{"owned", "shared", "plain"} {
				for id := w; id < l.rows; id += l.writers {
					if _, err := conn.Exec(ctx, "insert into public."+table+" values ($1, $2, 'i')", id, l.ownerOf(id)); err != nil {
						return fmt.Errorf("insert %s %d: %w", table, id, err)
					}
					mu.Lock()
					committed[opKey(table, "INSERT", id, "i")] = l.ownerOf(id)
					mu.Unlock()
				}
				for id := w; id < l.rows; id += l.writers {
					if id%3 != 0 {
						continue
					}
					if _, err := conn.Exec(ctx, "update public."+table+" set body = 'u' where id = $1", id); err != nil {
						return fmt.Errorf("update %s %d: %w", table, id, err)
					}
					mu.Lock()
					committed[opKey(table, "UPDATE", id, "u")] = l.ownerOf(id)
					mu.Unlock()
				}
			}
			return nil
		})
	}
	return committed, g.Wait()
}

// visibleTo is what a subscriber with sub (empty for anon) may see of a committed change.
func visibleTo(sub, key, owner string) bool {
	table := key[:strings.IndexByte(key, ' ')]
	switch table {
	case "plain":
		return true
	case "shared":
		return sub != ""
	default:
		return sub != "" && sub == owner
	}
}

// TestDeliveryCompleteness: thousands of single-row autocommit inserts and updates from several
// connections into RLS tables (owner-based and using (true)) and a plain table; every subscriber
// gets every change it may see exactly once and nothing else. Run on a stock server (fsync and
// synchronous_commit on: there the RLS check once ran before the commit was visible and dropped
// ~1% of the rows) and with synchronous_commit=off on the writers.
func TestDeliveryCompleteness(t *testing.T) {
	t.Run("stock server, synchronous_commit=on", func(t *testing.T) {
		testCompleteness(t, pgtest.Options{Durable: true}, "on")
	})
	t.Run("synchronous_commit=off", func(t *testing.T) { testCompleteness(t, pgtest.Options{}, "off") })
}

func testCompleteness(t *testing.T, opts pgtest.Options, syncCommit string) {
	e := newEnvWith(t, opts, completenessSQL)
	load := completenessLoad{rows: 1500, writers: 4, users: []string{"u0", "u1", "u2"}}
	binding := `[{"event":"*","schema":"public","table":"owned"},{"event":"*","schema":"public","table":"shared"},{"event":"*","schema":"public","table":"plain"}]`
	type subscriber struct {
		name, sub string
		rec       *recorder
	}
	var subs []subscriber
	for _, u := range load.users {
		rec, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": u}, binding)
		subs = append(subs, subscriber{u, u, rec})
	}
	// A second subscriber of u0 (same claims group) and an anonymous one.
	rec, _ := e.subscribe(t, map[string]any{"role": "authenticated", "sub": "u0"}, binding)
	subs = append(subs, subscriber{"u0-second", "u0", rec})
	rec, _ = e.subscribe(t, anon, binding)
	subs = append(subs, subscriber{"anon", "", rec})
	for _, s := range subs {
		s.rec.waitSubscribed(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	committed, err := load.run(ctx, e.pool, syncCommit)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	for _, s := range subs {
		checkExactlyOnce(t, "synchronous_commit="+syncCommit+" subscriber "+s.name, s.sub, s.rec, committed)
	}
	// Every check decided: no series of the inconclusive counter exists.
	if n := testutil.CollectAndCount(e.svc.metrics.rlsInconclusive); n != 0 {
		t.Errorf("realtime_postgres_changes_rls_inconclusive_total has %d series, want none", n)
	}
}

// checkExactlyOnce asserts that rec got every committed change sub may see exactly once and
// nothing else, and logs the counts.
func checkExactlyOnce(t *testing.T, label, sub string, rec *recorder, committed map[string]string) {
	t.Helper()
	want := map[string]bool{}
	for k, owner := range committed {
		if visibleTo(sub, k, owner) {
			want[k] = true
		}
	}
	// The last change is in the stream once every expected one arrived; wait for the count,
	// then a little longer so that duplicates or unexpected rows would show.
	waitDeliveries(t, rec, len(want), 60*time.Second)
	time.Sleep(200 * time.Millisecond)
	got, _ := rec.snapshot()
	missing, dups, unexpected := compareDeliveries(t, got, want)
	t.Logf("%s: committed %d, may see %d, delivered %d, missing %d, duplicates %d, not allowed %d",
		label, len(committed), len(want), len(got), len(missing), dups, len(unexpected))
	if len(missing) > 0 || dups > 0 || len(unexpected) > 0 {
		t.Errorf("%s: missing %v; duplicates %d; not allowed %v", label, head(missing), dups, head(unexpected))
	}
}

// waitDeliveries waits until the recorder holds n changes or the timeout passes (the comparison
// that follows reports what is missing).
func waitDeliveries(t *testing.T, r *recorder, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := len(r.changes)
		r.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func compareDeliveries(t *testing.T, got []delivered, want map[string]bool) (missing []string, dups int, unexpected []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range got {
		var m struct {
			Table  string `json:"table"`
			Type   string `json:"type"`
			Record struct {
				ID   int    `json:"id"`
				Body string `json:"body"`
			} `json:"record"`
		}
		if err := json.Unmarshal([]byte(d.data), &m); err != nil {
			t.Fatalf("payload %s: %v", d.data, err)
		}
		k := opKey(m.Table, m.Type, m.Record.ID, m.Record.Body)
		switch {
		case !want[k]:
			unexpected = append(unexpected, k)
		case seen[k]:
			dups++
		}
		seen[k] = true
	}
	for k := range want {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	return missing, dups, unexpected
}

func head(s []string) []string {
	if len(s) > 10 {
		return append(s[:10:10], fmt.Sprintf("... %d more", len(s)-10))
	}
	return s
}
