package changes

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestRLSWaitsForCommitVisibility: behind a synchronous standby that confirms WAL 30 ms late,
// every commit reaches the replication stream ~30 ms before any snapshot can see it. The RLS
// check must wait for it instead of judging the row "not visible" (which once dropped nearly
// every row on RLS tables in this setup); every allowed row arrives, exactly once.
func TestRLSWaitsForCommitVisibility(t *testing.T) {
	e := newEnv(t, completenessSQL)
	load := completenessLoad{rows: 300, writers: 6, users: []string{"u0", "u1"}}
	binding := `[{"event":"*","schema":"public","table":"owned"},{"event":"*","schema":"public","table":"shared"},{"event":"*","schema":"public","table":"plain"}]`
	subs := map[string]*recorder{}
	for _, u := range load.users {
		subs[u], _ = e.subscribe(t, map[string]any{"role": "authenticated", "sub": u}, binding)
		subs[u].waitSubscribed(t)
	}
	e.inst.SlowStandby(t, 30*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	committed, err := load.run(ctx, e.pool, "on")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	for u, rec := range subs {
		checkExactlyOnce(t, "slow standby, subscriber "+u, u, rec, committed)
	}
	// The test only proves something if checks met invisible commits and waited.
	waits := histogramCount(t, e.svc.metrics.rlsWaitSeconds)
	t.Logf("RLS checks that waited for visibility: %d", waits)
	if waits == 0 {
		t.Error("no RLS check waited for a commit to become visible; the standby did not delay visibility")
	}
}

func histogramCount(t testing.TB, h prometheus.Histogram) uint64 {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatalf("histogram: %v", err)
	}
	return m.GetHistogram().GetSampleCount()
}
