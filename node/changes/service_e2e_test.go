package changes

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A tenant whose stream stopped must not keep a slot lag series: the series is dropped once the
// stream's goroutine has ended, not when it was asked to stop (its reader may still report).
func TestForgetDropsLagSeries(t *testing.T) {
	e := newEnv(t, seqSQL)
	e.stop()
	reg := prometheus.NewRegistry()
	e.svc = NewService(e.mgr, AlwaysOwner{}, testLogger(), reg, Hooks{})
	e.run(t)
	rec, _ := e.subscribe(t, anon, `[{"event":"INSERT","schema":"public","table":"seq"}]`)
	rec.waitSubscribed(t)
	e.svc.Status() // sets the series from the running stream
	if n := testutil.CollectAndCount(e.svc.metrics.lag); n != 1 {
		t.Fatalf("lag series while streaming = %d, want 1", n)
	}

	e.svc.Forget(e.tenant.ExternalID)
	deadline := time.Now().Add(10 * time.Second)
	for testutil.CollectAndCount(e.svc.metrics.lag) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("lag series still exported after the stream stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.stop()
	if n := testutil.CollectAndCount(e.svc.metrics.lag); n != 0 {
		t.Fatalf("lag series after Run ended = %d, want 0", n)
	}
}
