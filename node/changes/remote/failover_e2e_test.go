package remote

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

const seqSQL = `
create table public.seq (id int8 primary key, at timestamptz default now());
grant select on public.seq to anon;
alter publication supabase_realtime add table public.seq;
`

var anon = map[string]any{"role": "anon", "exp": 9999999999}

func seqBindings(t *testing.T) []changes.Binding {
	bs, err := changes.ParseBindings([]byte(`[{"event":"INSERT","schema":"public","table":"seq"}]`))
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// setupTenant starts Postgres, migrates a tenant database and creates the seq table.
func setupTenant(t *testing.T) (*tenant.Tenant, *pgxpool.Pool) {
	inst := pgtest.Start(t)
	db := inst.CreateDatabase(t, "tenant")
	tn := &tenant.Tenant{ExternalID: "dev-tenant", PostgresChanges: true,
		Database: &tenant.Database{Host: inst.Host, Port: inst.Port, Name: db, User: "postgres", SSLMode: "disable"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mgr := tenantdb.NewManager(testLog(), tenantdb.Options{JanitorInterval: -1})
	defer mgr.Close()
	if _, err := mgr.Pool(ctx, tn); err != nil { // runs the tenant migrations
		t.Fatalf("tenant pool: %v", err)
	}
	pool, err := pgxpool.New(ctx, inst.DSN(db))
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, seqSQL); err != nil {
		t.Fatalf("setup: %v", err)
	}
	return tn, pool
}

func ownerOf(t *testing.T, nodes []*testNode, tenantID string) *testNode {
	t.Helper()
	var owner *testNode
	testutil.Eventually(t, 10*time.Second, "one streaming owner", func() bool {
		owner = nil
		n := 0
		for _, nd := range nodes {
			for _, st := range nd.svc.Status() {
				if st.Tenant == tenantID && st.Owned && st.Streaming {
					owner, n = nd, n+1
				}
			}
		}
		return n == 1
	})
	return owner
}

// writer commits rows with increasing ids until stopped; it records which commits succeeded.
type writer struct {
	pool      *pgxpool.Pool
	next      atomic.Int64
	mu        sync.Mutex
	committed []int64
	stop      chan struct{}
	done      chan struct{}
}

func startWriter(pool *pgxpool.Pool, from int64) *writer {
	w := &writer{pool: pool, stop: make(chan struct{}), done: make(chan struct{})}
	w.next.Store(from)
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			id := w.next.Add(1)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := w.pool.Exec(ctx, "insert into public.seq (id) values ($1)", id)
			cancel()
			if err == nil {
				w.mu.Lock()
				w.committed = append(w.committed, id)
				w.mu.Unlock()
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return w
}

func (w *writer) finish() []int64 {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int64(nil), w.committed...)
}

// TestClusterChangesFailover: subscribers on every node get the changes streamed by one owner;
// unsubscribing propagates; when the owner dies, the subscriptions move to the new owner and every
// row committed throughout reaches the subscribers on the surviving nodes at least once.
//
// Claims are handled 500 ms late on every node, so the new owner could read the rows its
// predecessor had not confirmed before the other node re-registered: only the stream gate (wait
// for every live peer's registrations) keeps them.
func TestClusterChangesFailover(t *testing.T) {
	tn, pool := setupTenant(t)
	c := startCluster(t, tn, 500*time.Millisecond, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	nodes := c.nodes
	owner := ownerOf(t, nodes, tn.ExternalID)
	recs := map[string]*recorder{}
	for _, n := range nodes {
		r := newRecorder()
		recs[n.name] = r
		t.Cleanup(n.layer.Subscribe(context.Background(), tn, anon, seqBindings(t), r))
	}
	for name, r := range recs {
		testutil.Eventually(t, 15*time.Second, "Subscribed on "+name, func() bool { return r.Subscribed() > 0 })
	}

	// A subscriber on a non-owner node receives changes; an unsubscribe reaches the owner.
	if _, err := pool.Exec(context.Background(), "insert into public.seq (id) values (1)"); err != nil {
		t.Fatal(err)
	}
	for name, r := range recs {
		testutil.Eventually(t, 10*time.Second, "row 1 on "+name, func() bool { return r.Has(1) })
	}
	subsOnOwner := func() int {
		for _, st := range owner.svc.Status() {
			if st.Tenant == tn.ExternalID {
				return st.Subscriptions
			}
		}
		return -1
	}
	testutil.Eventually(t, 5*time.Second, "3 subscriptions on the owner", func() bool { return subsOnOwner() == 3 })
	var other *testNode
	for _, n := range nodes {
		if n != owner {
			other = n
		}
	}
	extra := newRecorder()
	unsub := other.layer.Subscribe(context.Background(), tn, anon, seqBindings(t), extra)
	testutil.Eventually(t, 10*time.Second, "extra subscribed", func() bool { return extra.Subscribed() > 0 })
	if got := subsOnOwner(); got != 4 {
		t.Fatalf("owner holds %d subscriptions, want 4", got)
	}
	unsub()
	testutil.Eventually(t, 5*time.Second, "unsubscribe on the owner", func() bool { return subsOnOwner() == 3 })

	// Commit continuously and kill the owner.
	w := startWriter(pool, 1)
	time.Sleep(time.Second)
	killedAt := time.Now()
	lastBefore := w.next.Load()
	owner.stop()
	var survivors []*testNode
	for _, n := range nodes {
		if n != owner {
			survivors = append(survivors, n)
		}
	}
	newOwner := ownerOf(t, survivors, tn.ExternalID)
	testutil.Eventually(t, 15*time.Second, "a row committed after the kill", func() bool {
		_, ok := recs[survivors[0].name].FirstAfter(lastBefore)
		return ok
	})
	first, _ := recs[survivors[0].name].FirstAfter(lastBefore)
	t.Logf("owner %s killed; new owner %s; first row committed after the kill delivered %s after the kill",
		owner.name, newOwner.name, first.Sub(killedAt).Round(time.Millisecond))
	time.Sleep(1500 * time.Millisecond)
	committed := w.finish()
	checkAll(t, recs, survivors, committed)

	// The killed node comes back: rendezvous hashing gives it the tenant again, a planned move
	// while the new owner still reads the slot. Rows committed meanwhile must all arrive too.
	w = startWriter(pool, w.next.Load())
	idx := 0
	for i, n := range nodes {
		if n == owner {
			idx = i
		}
	}
	back := c.restart(idx)
	r := newRecorder()
	recs[back.name] = r
	t.Cleanup(back.layer.Subscribe(context.Background(), tn, anon, seqBindings(t), r))
	if got := ownerOf(t, c.nodes, tn.ExternalID); got != back {
		t.Fatalf("owner after the restart is %s, want %s back", got.name, back.name)
	}
	testutil.Eventually(t, 15*time.Second, "Subscribed on the restarted node", func() bool { return r.Subscribed() > 0 })
	time.Sleep(time.Second)
	committed = w.finish()
	checkAll(t, recs, survivors, committed)
}

func checkAll(t *testing.T, recs map[string]*recorder, nodes []*testNode, committed []int64) {
	t.Helper()
	if len(committed) < 200 {
		t.Fatalf("only %d rows committed", len(committed))
	}
	for _, n := range nodes {
		r := recs[n.name]
		var missing []int64
		testutil.Eventually(t, 20*time.Second, fmt.Sprintf("all %d rows on %s", len(committed), n.name), func() bool {
			missing = r.Missing(committed)
			return len(missing) == 0
		})
		t.Logf("%s: %d rows, all delivered; system messages: %s", n.name, len(committed), r.SystemText())
	}
}
