package rtt

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listen accepts and closes connections on loopback until the test ends.
func listen(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// closedPort is an address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestProberRound(t *testing.T) {
	up, down := listen(t), closedPort(t)
	var mu sync.Mutex
	eps := []string{up, down}
	var rounds []map[string]Figure
	p := NewProber(Config{
		Endpoints: func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), eps...) },
		Window:    3, Timeout: time.Second,
		OnRound: func(f map[string]Figure) { rounds = append(rounds, f) },
	})
	ctx := context.Background()
	p.Round(ctx)
	if f := p.Figures()[up]; f.Ms <= 0 || f.Settled != 0 {
		t.Fatalf("after one sample: %+v; want a median and no settled figure yet", f)
	}
	for i := 0; i < 3; i++ {
		p.Round(ctx)
	}
	if f := p.Figures()[up]; f.Settled <= 0 {
		t.Fatalf("after 4 samples: %+v; want a settled figure", f)
	}
	f := p.Figures()
	if len(f) != 1 || f[up].Samples != 3 || f[up].Ms <= 0 {
		t.Fatalf("figures after 4 rounds with window 3 = %+v; want only %s with 3 samples", f, up)
	}
	if _, ok := f[down]; ok {
		t.Fatal("a refused connection was recorded as a sample")
	}
	if len(rounds) != 4 {
		t.Fatalf("OnRound called %d times, want 4", len(rounds))
	}
	mu.Lock()
	eps = []string{down}
	mu.Unlock()
	p.Round(ctx)
	if f := p.Figures(); len(f) != 0 {
		t.Fatalf("endpoint no longer listed still has a figure: %+v", f)
	}
}

// TestProberConcurrencyBound: no more than Concurrency samples are in flight at once.
func TestProberConcurrencyBound(t *testing.T) {
	var eps []string
	for i := 0; i < 12; i++ {
		eps = append(eps, listen(t))
	}
	var inflight, peak atomic.Int32
	var d net.Dialer
	p := NewProber(Config{
		Endpoints:   func() []string { return eps },
		Concurrency: 3,
		Dial: func(ctx context.Context, addr string) (net.Conn, error) {
			n := inflight.Add(1)
			defer inflight.Add(-1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond) // hold the slot so overlaps would show
			return d.DialContext(ctx, "tcp", addr)
		},
	})
	p.Round(context.Background())
	if got := peak.Load(); got > 3 || got < 1 {
		t.Fatalf("peak samples in flight = %d, want 1..3", got)
	}
	if len(p.Figures()) != len(eps) {
		t.Fatalf("measured %d of %d endpoints", len(p.Figures()), len(eps))
	}
}

// TestProberRunStops: Run returns when its context ends, mid-wait.
func TestProberRunStops(t *testing.T) {
	up := listen(t)
	rounds := make(chan struct{}, 10)
	p := NewProber(Config{Endpoints: func() []string { return []string{up} }, Interval: time.Hour,
		OnRound: func(map[string]Figure) { rounds <- struct{}{} }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	<-rounds
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
