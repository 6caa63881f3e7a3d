//go:build linux

package clusterrtt

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/test/conformance"
)

const seqSQL = `create table public.seq (id int8 primary key);
grant select on public.seq to public;
create publication supabase_realtime for table public.seq;`

// hold is the nodes' --rtt-hold: how long a significant RTT change must last before the
// published figure (and so placement) follows it. The nodes run with a 10 ms margin instead of
// the default 5: on the shared 2-core machine at load 20 a TCP connect can wait several ms for a
// CPU, and two nodes of one region must stay equally good; 2 ms of flutter stays far inside it
// and 100 ms far outside.
const hold = 5 * time.Second

// TestPlacementByMeasuredRTT runs five nodes in three regions with real latency between them
// (eu<->us 40 ms, eu<->ap 80 ms, us<->ap 120 ms round trip, 1 ms jitter each way) and two tenant
// databases: one labelled eu, one unlabelled in us. It asserts that the eu tenant is owned in eu
// and the unlabelled one in us (by measurement alone); that 100 ms added to the eu owner's path
// moves that tenant to the other eu node, never before the hold time, while a 2 ms flutter on the
// us owner's path over the same time never moves the us tenant; that 100 ms on the us owner's
// path then moves the us tenant to the other us node; and that subscribers on a third node
// receive every row committed to both databases throughout.
// world is the lab of TestPlacementByMeasuredRTT: five nodes, two databases, real latency.
type world struct {
	lab    *Lab
	nodes  []*node
	byName map[string]*node
	pools  map[string]*pgxpool.Pool
	ctx    context.Context
	// What starting a node again takes (world.restart).
	bin, peers, tenants string
	args                []string
}

// newWorld builds the lab, starts Postgres and the nodes (with extra flags) and waits for a full
// mesh. Everything is removed when tb ends.
func newWorld(t testing.TB, extra ...string) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces and TUN devices (make test runs as root)")
	}
	bin := conformance.BuildNode(t)
	lab, err := NewLab(map[string]int{"eu": 1, "us": 2, "ap": 3}, map[[2]string]time.Duration{
		{"eu", "us"}: 40 * time.Millisecond, {"eu", "ap"}: 80 * time.Millisecond, {"us", "ap"}: 120 * time.Millisecond,
	}, time.Millisecond)
	if err != nil {
		t.Fatalf("network lab: %v", err)
	}
	t.Cleanup(lab.Close)
	leaves := []struct {
		name, region string
		host         int
	}{{"eu-a", "eu", 11}, {"eu-b", "eu", 12}, {"us-a", "us", 11}, {"us-b", "us", 12}, {"ap-a", "ap", 11},
		{"db-eu", "eu", 100}, {"db-us", "us", 100}}
	for _, l := range leaves {
		if _, err := lab.AddLeaf(l.name, l.region, l.host); err != nil {
			t.Fatalf("leaf %s: %v", l.name, err)
		}
	}

	inst := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	pools := map[string]*pgxpool.Pool{}
	var tenants []tenantDB
	for _, td := range []tenantDB{{id: "eutenant", region: "eu", db: "tenant_eu"}, {id: "ustenant", db: "tenant_us"}} {
		db := inst.CreateDatabase(t, td.db)
		pool, err := pgxpool.New(ctx, inst.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if _, err := pool.Exec(ctx, seqSQL); err != nil {
			t.Fatalf("setup %s: %v", db, err)
		}
		leaf := "db-us"
		if td.region == "eu" {
			leaf = "db-eu"
		}
		ln, err := lab.ListenIn(leaf, 5432)
		if err != nil {
			t.Fatalf("database listener in %s: %v", leaf, err)
		}
		forward(t, ln, fmt.Sprintf("%s:%d", inst.Host, inst.Port))
		td.host = lab.leaf(leaf).IP
		pools[td.id] = pool
		tenants = append(tenants, td)
	}
	file := tenantsFile(t, tenants)

	var peers []string
	for _, l := range leaves[:5] {
		peers = append(peers, fmt.Sprintf("%s@%s=%s:%d", l.name, l.region, lab.leaf(l.name).IP, clusterPort))
	}
	byName := map[string]*node{}
	var nodes []*node
	args := append([]string{"--rtt-interval", "300ms", "--rtt-hold", hold.String(), "--rtt-margin-ms", "10"}, extra...)
	for _, l := range leaves[:5] {
		n := startNode(t, lab, bin, l.name, strings.Join(peers, ","), file, args...)
		nodes = append(nodes, n)
		byName[l.name] = n
	}
	waitFor(t, 60*time.Second, "a full mesh", func() bool {
		for _, n := range nodes {
			if st, ok := n.status(); !ok || len(st.Peers) != len(nodes)-1 {
				return false
			}
		}
		return true
	})

	return &world{lab: lab, nodes: nodes, byName: byName, pools: pools, ctx: ctx,
		bin: bin, peers: strings.Join(peers, ","), tenants: file, args: args}
}

func TestPlacementByMeasuredRTT(t *testing.T) {
	w := newWorld(t)
	lab, nodes, byName, pools, ctx := w.lab, w.nodes, w.byName, w.pools, w.ctx
	// The labelled database is owned in its region; the unlabelled one in us by measurement.
	var euOwner, usOwner string
	waitFor(t, 60*time.Second, "eutenant owned in eu and ustenant in us", func() bool {
		euOwner, usOwner = ownerOf(nodes, "eutenant"), ownerOf(nodes, "ustenant")
		return strings.HasPrefix(euOwner, "eu-") && strings.HasPrefix(usOwner, "us-")
	})
	t.Logf("owners: eutenant %s, ustenant %s", euOwner, usOwner)
	usDB := fmt.Sprintf("%s:5432", lab.leaf("db-us").IP)
	var euFig, usFig float64
	waitFor(t, 30*time.Second, "settled RTT figures of eu-a and "+usOwner, func() bool {
		a, okA := byName["eu-a"].status()
		b, okB := byName[usOwner].status()
		euFig, usFig = a.DatabaseRTT[usDB].Settled, b.DatabaseRTT[usDB].Settled
		return okA && okB && euFig > 0 && usFig > 0
	})
	if euFig < 38 || usFig >= euFig {
		t.Errorf("RTT to the us database: eu-a %.1f ms, %s %.1f ms; want eu-a at least the lab's 40 ms (less 2 ms jitter) and above %s",
			euFig, usOwner, usFig, usOwner)
	}

	// Subscribers on ap-a (never an owner here) and a writer per database for the whole run.
	subs := map[string]*logAndIDs{}
	var wg sync.WaitGroup
	stopWriting := make(chan struct{})
	for _, id := range []string{"eutenant", "ustenant"} {
		la := &logAndIDs{log: subscribe(ctx, t, byName["ap-a"], id)}
		subs[id] = la
		waitFor(t, 30*time.Second, "Subscribed to PostgreSQL for "+id, func() bool { return la.log.Subscribed() > 0 })
		wg.Add(1)
		go func() { defer wg.Done(); la.write(ctx, t, pools[id], stopWriting) }()
	}

	// 100 ms on the eu owner's path, and a 2 ms flutter on the us owner's path, at once.
	otherEU := map[string]string{"eu-a": "eu-b", "eu-b": "eu-a"}[euOwner]
	otherUS := map[string]string{"us-a": "us-b", "us-b": "us-a"}[usOwner]
	stopFlutter := make(chan struct{})
	flutterDone := make(chan struct{})
	go func() { flutter(lab, usOwner, stopFlutter); close(flutterDone) }()
	t0 := time.Now()
	lab.Extra(euOwner, 50*time.Millisecond) // each way: 100 ms more RTT
	moved := watchMove(t, nodes, "eutenant", euOwner, t0, map[string]string{"ustenant": usOwner})
	if moved != otherEU {
		t.Fatalf("eutenant moved from %s to %s, want the other eu node %s", euOwner, moved, otherEU)
	}
	t.Logf("eutenant moved %s -> %s %.1fs after the delay (hold %s)", euOwner, moved, time.Since(t0).Seconds(), hold)
	// Keep the flutter going until it has lasted two hold times, and the us tenant stays put.
	for time.Since(t0) < 2*hold {
		if o := ownerOf(nodes, "ustenant"); o != "" && o != usOwner {
			t.Fatalf("a 2 ms flutter on %s's path moved ustenant to %s", usOwner, o)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stopFlutter)
	<-flutterDone
	if !anyLog(nodes, "LowerRTT from") {
		t.Errorf("no node logged the move's reason (LowerRTT from X ms to Y ms)")
	}

	// 100 ms on the us owner's path: the unlabelled tenant moves to the other us node.
	t1 := time.Now()
	lab.Extra(usOwner, 50*time.Millisecond)
	if m := watchMove(t, nodes, "ustenant", usOwner, t1, map[string]string{"eutenant": moved}); m != otherUS {
		t.Fatalf("ustenant moved from %s to %s, want the other us node %s", usOwner, m, otherUS)
	}

	close(stopWriting)
	wg.Wait()
	for id, la := range subs {
		var missing []int64
		waitFor(t, 30*time.Second, "every row of "+id+" delivered", func() bool {
			missing = la.log.Missing(la.ids)
			return len(missing) == 0
		})
		t.Logf("%s: %d rows committed, all delivered across its move", id, len(la.ids))
	}
}

// watchMove polls until tenant's owner is no longer from and returns the new owner. It fails if
// the move is seen before since+hold, or if any of the keep tenants changes owner meanwhile.
func watchMove(t *testing.T, nodes []*node, tenant, from string, since time.Time, keep map[string]string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		at := time.Now()
		o := ownerOf(nodes, tenant)
		if o != "" && o != from {
			if at.Before(since.Add(hold)) {
				t.Fatalf("%s moved %s -> %s after %s, before the %s hold", tenant, from, o, at.Sub(since), hold)
			}
			return o
		}
		for k, want := range keep {
			if got := ownerOf(nodes, k); got != "" && got != want {
				t.Fatalf("%s moved from %s to %s while only %s's path changed", k, want, got, from)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never moved away from %s", tenant, from)
	return ""
}

// flutter toggles 2 ms of extra RTT on leaf every 400 ms until stop, then removes it.
func flutter(lab *Lab, leaf string, stop <-chan struct{}) {
	on := false
	tick := time.NewTicker(400 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			lab.Extra(leaf, 0)
			return
		case <-tick.C:
			on = !on
			d := time.Duration(0)
			if on {
				d = time.Millisecond // each way
			}
			lab.Extra(leaf, d)
		}
	}
}

func anyLog(nodes []*node, s string) bool {
	for _, n := range nodes {
		if strings.Contains(n.logs.String(), s) {
			return true
		}
	}
	return false
}

// logAndIDs is one tenant's subscriber log and the ids its writer committed.
type logAndIDs struct {
	log interface {
		Missing([]int64) []int64
		Subscribed() int
	}
	mu  sync.Mutex
	ids []int64
}

// write commits one row every 20 ms until stop (each insert is its own transaction).
func (la *logAndIDs) write(ctx context.Context, t *testing.T, pool *pgxpool.Pool, stop <-chan struct{}) {
	for id := int64(1); ; id++ {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		if _, err := pool.Exec(ctx, "insert into public.seq (id) values ($1)", id); err != nil {
			t.Errorf("insert %d: %v", id, err)
			return
		}
		la.mu.Lock()
		la.ids = append(la.ids, id)
		la.mu.Unlock()
	}
}

// TestMain removes the node binary conformance.BuildNode may have built for this run.
func TestMain(m *testing.M) {
	code := m.Run()
	conformance.CleanupBuild()
	os.Exit(code)
}
