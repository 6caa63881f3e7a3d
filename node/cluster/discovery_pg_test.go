package cluster

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/internal/testutil"
)

func names(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out
}

func pgMember(i int) Member {
	return Member{Name: fmt.Sprintf("pg%d", i), Region: "eu", Addr: fmt.Sprintf("127.0.0.%d:7000", i), Epoch: time.Now().UnixNano()}
}

func startPGDiscovery(t *testing.T, dsn string, self Member, interval time.Duration) (*PostgresDiscovery, context.CancelFunc) {
	d := NewPostgresDiscovery(PostgresConfig{
		DSN: dsn, Cluster: "test cluster", Self: self, Interval: interval,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
	}, testLogger(nil))
	return d, runCtx(t, d.Run)
}

// TestPostgresDiscovery: three members on one real Postgres see each other; a crashed member
// (no goodbye) is forgotten after the missed-heartbeat window, a stopping one at once; discovery
// survives a Postgres crash and restart: members are kept through the outage and a newcomer
// after the restart is seen (LISTEN was re-established).
func TestPostgresDiscovery(t *testing.T) {
	inst := pgtest.Start(t)
	dsn := inst.DSN("postgres")
	const interval = 200 * time.Millisecond
	var ds []*PostgresDiscovery
	var stops []context.CancelFunc
	for i := 1; i <= 3; i++ {
		d, stop := startPGDiscovery(t, dsn, pgMember(i), interval)
		ds, stops = append(ds, d), append(stops, stop)
	}
	all := []string{"pg1", "pg2", "pg3"}
	for _, d := range ds {
		testutil.Eventually(t, 10*time.Second, "everyone sees everyone", func() bool { return slices.Equal(names(d.Members()), all) })
	}

	// Crash pg3: no goodbye, so the others must time it out (3 missed heartbeats).
	ds[2].noBye = true
	crashed := time.Now()
	stops[2]()
	for _, d := range ds[:2] {
		testutil.Eventually(t, 5*time.Second, "crashed member forgotten", func() bool {
			return slices.Equal(names(d.Members()), []string{"pg1", "pg2"})
		})
	}
	// The window runs from pg3's last heartbeat, which may precede the crash by up to one
	// interval: forgetting it sooner than 2 intervals after the crash means it was not timed out.
	if waited := time.Since(crashed); waited < 2*interval {
		t.Errorf("crashed member forgotten after %s, before the missed-heartbeat window", waited)
	}

	// Postgres crashes and comes back.
	inst.Kill()
	time.Sleep(4 * interval) // longer than the window: peers must not be forgotten meanwhile
	if err := inst.Restart(); err != nil {
		t.Fatalf("restart postgres: %v", err)
	}
	for _, d := range ds[:2] {
		if got := names(d.Members()); !slices.Equal(got, []string{"pg1", "pg2"}) {
			t.Fatalf("after the outage members = %v", got)
		}
	}
	d4, _ := startPGDiscovery(t, dsn, pgMember(4), interval)
	for _, d := range []*PostgresDiscovery{ds[0], ds[1], d4} {
		testutil.Eventually(t, 10*time.Second, "newcomer seen after restart", func() bool {
			return slices.Equal(names(d.Members()), []string{"pg1", "pg2", "pg4"})
		})
	}

	// A graceful stop says goodbye: forgotten well before the window.
	stops[1]()
	testutil.Eventually(t, 5*time.Second, "goodbye honoured", func() bool {
		return slices.Equal(names(ds[0].Members()), []string{"pg1", "pg4"})
	})
}

// TestMeshOverPostgresDiscovery: three meshes on 127.0.0.1-3 find each other through Postgres
// and exchange messages.
func TestMeshOverPostgresDiscovery(t *testing.T) {
	inst := pgtest.Start(t)
	var meshes []*Mesh
	recs := []*recorder{newRecorder(), newRecorder(), newRecorder()}
	for i := 1; i <= 3; i++ {
		ln := listenOn(t, fmt.Sprintf("127.0.0.%d", i))
		self := Member{Name: fmt.Sprintf("node%d", i), Region: []string{"eu", "eu", "us"}[i-1], Addr: ln.Addr().String(), Epoch: 1}
		d, _ := startPGDiscovery(t, inst.DSN("postgres"), self, 200*time.Millisecond)
		m := NewMesh(self, testSecret, d, Options{Listener: ln}, testLogger(nil), nil)
		m.Handle(typeTest, recs[i-1].handle)
		meshes = append(meshes, m)
		startNode(t, m)
	}
	for _, m := range meshes {
		testutil.Eventually(t, 10*time.Second, m.self.Name+" linked to both peers", func() bool { return len(m.Peers()) == 2 })
	}
	for _, m := range meshes {
		for _, p := range m.Peers() {
			m.Send(p.Name, typeTest, seqPayload(0, 8))
		}
	}
	for _, r := range recs {
		testutil.Eventually(t, 5*time.Second, "message from each peer", func() bool {
			n := uint64(0)
			for j := 1; j <= 3; j++ {
				n += r.count(fmt.Sprintf("node%d", j))
			}
			return n == 2
		})
	}
}
