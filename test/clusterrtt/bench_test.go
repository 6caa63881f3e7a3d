//go:build linux

package clusterrtt

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/rowlog"
)

// BenchmarkCommitToClientByRegion commits one row at a time to the eu database (owned in eu)
// and times, per region, from the commit returning to the first arrival at a subscriber on a
// node of that region: eu (same region as the owner), us (+20 ms one way), ap (+40 ms). The
// subscribers themselves sit in the root namespace (no delay to any node), so each figure is the
// loopback pipeline plus the owner-to-node one-way delay. One iteration is one row.
func BenchmarkCommitToClientByRegion(b *testing.B) {
	w := newWorld(b)
	var owner string
	waitFor(b, 60*time.Second, "eutenant owned in eu", func() bool {
		owner = ownerOf(w.nodes, "eutenant")
		return strings.HasPrefix(owner, "eu-")
	})
	subs := map[string]*rowlog.Log{}
	for region, leaf := range map[string]string{"eu": "eu-a", "us": "us-a", "ap": "ap-a"} {
		l := subscribe(w.ctx, b, w.byName[leaf], "eutenant")
		waitFor(b, 30*time.Second, "Subscribed on "+leaf, func() bool { return l.Subscribed() > 0 })
		subs[region] = l
	}
	lat := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(i + 1)
		if _, err := w.pools["eutenant"].Exec(w.ctx, "insert into public.seq (id) values ($1)", id); err != nil {
			b.Fatalf("insert: %v", err)
		}
		committed := time.Now()
		waitFor(b, 20*time.Second, fmt.Sprintf("row %d everywhere", id), func() bool {
			for _, l := range subs {
				if !l.Has(id) {
					return false
				}
			}
			return true
		})
		for region, l := range subs {
			at, _ := l.At(id)
			lat[region] = append(lat[region], at.Sub(committed))
		}
	}
	b.StopTimer()
	for region, ds := range lat {
		slices.Sort(ds)
		p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.5), region+"-p50-ms")
		b.ReportMetric(p(0.99), region+"-p99-ms")
	}
	b.Logf("owner %s, %d rows", owner, b.N)
}
