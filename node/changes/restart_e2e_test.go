package changes

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const seqSQL = `
create table public.seq (id int8 primary key, at timestamptz default now());
grant select on public.seq to anon;
alter publication supabase_realtime add table public.seq;
`

// TestRestartLosesNothing commits rows continuously while the streaming Service is cancelled and
// replaced, and while the Postgres server is killed and restarted; every row in the table at the
// end must have been delivered to one of the subscribers at least once.
func TestRestartLosesNothing(t *testing.T) {
	e := newEnv(t, seqSQL)
	binding := `[{"event":"INSERT","schema":"public","table":"seq"}]`
	rec1, _ := e.subscribe(t, anon, binding)
	rec1.waitSubscribed(t)

	var next atomic.Int64
	stopWriter := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stopWriter:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, _ = e.pool.Exec(ctx, "insert into public.seq (id) values ($1)", next.Add(1))
			cancel()
			time.Sleep(2 * time.Millisecond)
		}
	}()

	time.Sleep(time.Second)
	e.stop() // the streaming component dies mid-stream
	time.Sleep(300 * time.Millisecond)

	// A new Service (as after a node restart); its subscriber is registered before it streams.
	e.svc = NewService(e.mgr, AlwaysOwner{}, testLogger(), prometheus.NewRegistry(), Hooks{})
	rec2 := newRecorder()
	unsub := e.svc.Subscribe(context.Background(), e.tenant, anon, mustBindings(t, binding), rec2)
	defer unsub()
	waitRegistered(t, e.svc, e.tenant.ExternalID)
	e.run(t)
	rec2.waitSubscribed(t)

	time.Sleep(time.Second)
	e.inst.Kill() // the database crashes mid-stream
	time.Sleep(500 * time.Millisecond)
	if err := e.inst.Restart(); err != nil {
		t.Fatalf("restart postgres: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	close(stopWriter)
	wg.Wait()

	// Ground truth: the rows that exist (a crash may lose commits that were not yet durable).
	var ids []int64
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows, err := e.pool.Query(context.Background(), "select id from public.seq order by id")
		if err == nil {
			ids = ids[:0]
			for rows.Next() {
				var id int64
				_ = rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			if rows.Err() == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("read rows: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(ids) < 100 {
		t.Fatalf("only %d rows committed", len(ids))
	}
	var missing []int64
	deadline = time.Now().Add(60 * time.Second)
	for {
		seen := map[int64]int{}
		for _, r := range []*recorder{rec1, rec2} {
			got, _ := r.snapshot()
			for _, d := range got {
				seen[recordID(t, d.data)]++
			}
		}
		missing = missing[:0]
		for _, id := range ids {
			if seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			dups := 0
			for _, n := range seen {
				dups += n - 1
			}
			t.Logf("%d rows committed, all delivered; %d duplicate deliveries across the restarts", len(ids), dups)
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%d of %d committed rows never delivered, e.g. %v; status %+v", len(missing), len(ids), missing[:min(10, len(missing))], e.svc.Status())
}

func recordID(t *testing.T, data string) int64 {
	i := strings.Index(data, `"record":{"id":`)
	if i < 0 {
		t.Fatalf("no record id in %s", data)
	}
	rest := data[i+len(`"record":{"id":`):]
	j := strings.IndexByte(rest, ',')
	id, err := strconv.ParseInt(rest[:j], 10, 64)
	if err != nil {
		t.Fatalf("record id in %s: %v", data, err)
	}
	return id
}

func waitRegistered(t *testing.T, s *Service, tenantID string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		ts := s.tenants[tenantID]
		s.mu.Unlock()
		if ts != nil && ts.reg.size() > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("subscription on %s never registered", tenantID)
}

// TestReadinessNoMissedCommit commits immediately after each "Subscribed to PostgreSQL" and
// expects that change.
func TestReadinessNoMissedCommit(t *testing.T) {
	e := newEnv(t, seqSQL)
	for i := int64(1); i <= 5; i++ {
		rec, _ := e.subscribe(t, anon, `[{"event":"INSERT","schema":"public","table":"seq"}]`)
		rec.waitSubscribed(t)
		e.exec(t, "insert into public.seq (id) values ($1)", 1000+i)
		got := rec.waitChanges(t, 1)
		if id := recordID(t, got[0].data); id != 1000+i {
			t.Fatalf("subscriber %d first change id %d, want %d", i, id, 1000+i)
		}
	}
}
