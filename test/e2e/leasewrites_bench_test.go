package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/realtimeops/realtime/node/tenant/kube"
)

// Fleet of the Lease write benchmark: 1,000 tenants spread over six node pods, as the issue's
// sizing (13 part 6), each pod with the node's own client limits (cmd/realtime-node/tenants.go).
const (
	benchTenants = 1000
	benchPods    = 6
	benchWindow  = 30 * time.Second
)

// countingTransport counts the requests one pod's client sends, by kind.
type countingTransport struct {
	next          http.RoundTripper
	writes, reads *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		c.reads.Add(1)
	} else {
		c.writes.Add(1)
	}
	return c.next.RoundTrip(r)
}

// BenchmarkLeaseWrites1000Tenants runs the node's LeaseHolder for 1,000 tenants on six pods
// against the simulated cluster's kube-apiserver and reports the API writes and reads per
// second the holders send once every tenant is held (steady state, over benchWindow). Run:
//
//	go test -run '^$' -bench LeaseWrites -benchtime 1x ./test/e2e/
func BenchmarkLeaseWrites1000Tenants(b *testing.B) {
	c := startSimCluster(b)
	ns := "lease-bench"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		b.Fatal(err)
	}
	var writes, reads atomic.Int64
	holders := make([]*kube.LeaseHolder, benchPods)
	for p := range holders {
		cfg := rest.CopyConfig(c.cfg)
		cfg.QPS, cfg.Burst = 50, 100 // the node's limits
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			return countingTransport{next: rt, writes: &writes, reads: &reads}
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			b.Fatal(err)
		}
		var names []string
		for i := p; i < benchTenants; i += benchPods {
			names = append(names, fmt.Sprintf("bench-%04d", i))
		}
		holders[p] = &kube.LeaseHolder{Client: cs, Namespace: ns, Identity: fmt.Sprintf("rt-bench-%d", p),
			Tenants: func() []string { return names }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	var wg sync.WaitGroup
	for _, h := range holders {
		wg.Add(1)
		go func() { defer wg.Done(); _ = h.Run(ctx) }()
	}
	defer wg.Wait()
	defer cancel()

	c.eventually(5*time.Minute, "every tenant's Lease held", func(context.Context) error {
		held := 0
		for _, h := range holders {
			held += len(h.Held())
		}
		if held != benchTenants {
			return fmt.Errorf("%d/%d held", held, benchTenants)
		}
		return nil
	})
	b.ResetTimer()
	for range b.N {
		w0, r0, t0, cpu0 := writes.Load(), reads.Load(), time.Now(), c.cpuSeconds(b, "kube-apiserver")
		time.Sleep(benchWindow)
		secs := time.Since(t0).Seconds()
		b.ReportMetric((c.cpuSeconds(b, "kube-apiserver")-cpu0)/secs, "apiserver-cpu-s/s")
		held := 0
		for _, h := range holders {
			held += len(h.Held())
		}
		if held != benchTenants {
			b.Fatalf("only %d/%d tenants held at the end of the window", held, benchTenants)
		}
		b.ReportMetric(float64(writes.Load()-w0)/secs, "writes/s")
		b.ReportMetric(float64(reads.Load()-r0)/secs, "reads/s")
	}
}

// cpuSeconds is the user+system CPU time the named component has used so far (/proc/PID/stat).
func (c *simCluster) cpuSeconds(tb testing.TB, name string) float64 {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if p.name != name {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
		if err != nil {
			tb.Fatalf("cpu of %s: %v", name, err)
		}
		// Fields after the command name (which ends with ')'): utime and stime are 14 and 15.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		return (ut + st) / 100 // USER_HZ
	}
	tb.Fatalf("no component %s", name)
	return 0
}
