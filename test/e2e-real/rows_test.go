//go:build e2ereal

package e2ereal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// setupRowsTable creates the table the tests insert into, readable by the API roles and in the
// publication (the README's Postgres Changes steps).
func setupRowsTable(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	exec1(t, conn, `create table if not exists e2e_rows (id bigserial primary key, note text, at timestamptz default now())`)
	exec1(t, conn, `grant select on e2e_rows to anon, authenticated`)
	exec1(t, conn, `do $$ begin
		if not exists (select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'e2e_rows') then
			alter publication supabase_realtime add table e2e_rows;
		end if; end $$`)
}

// insertRows commits n rows, one transaction each, every gap, and returns their ids.
func insertRows(t *testing.T, conn *pgx.Conn, n int, gap time.Duration) []int64 {
	t.Helper()
	var ids []int64
	for i := 0; i < n; i++ {
		var id int64
		if err := conn.QueryRow(context.Background(), `insert into e2e_rows (note) values ('e2e') returning id`).Scan(&id); err != nil {
			t.Fatalf("insert: %v", err)
		}
		ids = append(ids, id)
		time.Sleep(gap)
	}
	return ids
}

// committed is a row and when its commit returned to the inserter.
type committed struct {
	id int64
	at time.Time
}

// inserter commits a row every gap until stopped, recording each commit; a failed insert (the
// database is never the thing under test here) fails the test.
type inserter struct {
	mu   sync.Mutex
	rows []committed
	stop chan struct{}
	done chan struct{}
}

func startInserter(t *testing.T, conn *pgx.Conn, gap time.Duration) *inserter {
	in := &inserter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() { // owned: ends on stop()
		defer close(in.done)
		for {
			select {
			case <-in.stop:
				return
			case <-time.After(gap):
			}
			var id int64
			if err := conn.QueryRow(context.Background(), `insert into e2e_rows (note) values ('drill') returning id`).Scan(&id); err != nil {
				t.Errorf("insert: %v", err)
				return
			}
			in.mu.Lock()
			in.rows = append(in.rows, committed{id, time.Now()})
			in.mu.Unlock()
		}
	}()
	return in
}

func (in *inserter) finish() []committed {
	close(in.stop)
	<-in.done
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]committed(nil), in.rows...)
}

func missingRows(want []int64, got map[int64]time.Time) []int64 {
	var m []int64
	for _, id := range want {
		if _, ok := got[id]; !ok {
			m = append(m, id)
		}
	}
	return m
}
