package rtt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Prober.
type Config struct {
	// Endpoints lists the host:port of every database to measure now (called once per round).
	Endpoints func() []string
	// Interval between rounds (default 30 s), each one scaled by a random factor in
	// [1-Jitter, 1+Jitter] (default 0.2) so that pods do not probe a database in step.
	Interval time.Duration
	Jitter   float64
	// Timeout of one sample (default 3 s); a failed sample is not recorded.
	Timeout time.Duration
	// Concurrency bounds the samples in flight (default 4).
	Concurrency int
	// Window is how many samples the median is taken over (default 5).
	Window int
	// Dial opens the measured connection (default net.Dialer.DialContext over TCP).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Settle is the published figure's hysteresis (zero: DefaultSettle).
	Settle Settle
	// OnRound is called after every round (e.g. to publish the figures); may be nil.
	OnRound func(map[string]Figure)
	// Registerer for the probe metrics; may be nil.
	Registerer prometheus.Registerer
}

// Prober measures the endpoints of Config.Endpoints until its context ends.
type Prober struct {
	cfg     Config
	samples *prometheus.CounterVec

	mu      sync.Mutex
	windows map[string]*Window
	settled map[string]Settled
}

// NewProber applies the defaults.
func NewProber(cfg Config) *Prober {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Jitter <= 0 || cfg.Jitter >= 1 {
		cfg.Jitter = 0.2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Window <= 0 {
		cfg.Window = 5
	}
	if cfg.Settle == (Settle{}) {
		cfg.Settle = DefaultSettle
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	p := &Prober{cfg: cfg, windows: map[string]*Window{}, settled: map[string]Settled{},
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realtime_database_rtt_samples_total",
			Help: "Round-trip time samples of tenant databases (TCP connect), by result (ok, error).",
		}, []string{"result"})}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(p.samples)
	}
	return p
}

// Run probes until ctx ends; it returns nil then.
func (p *Prober) Run(ctx context.Context) error {
	for {
		p.Round(ctx)
		f := p.cfg.Interval.Seconds() * (1 - p.cfg.Jitter + 2*p.cfg.Jitter*rand.Float64())
		t := time.NewTimer(time.Duration(f * float64(time.Second)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Round takes one sample of every endpoint (at most Concurrency at once), forgets endpoints no
// longer listed and calls OnRound.
func (p *Prober) Round(ctx context.Context) {
	eps := p.cfg.Endpoints()
	sem := make(chan struct{}, p.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, ep := range eps {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ms, err := p.sample(ctx, ep)
			if err != nil {
				p.samples.WithLabelValues("error").Inc()
				return
			}
			p.samples.WithLabelValues("ok").Inc()
			p.record(ep, ms, time.Now())
		}()
	}
	wg.Wait()
	p.forget(eps)
	if p.cfg.OnRound != nil {
		p.cfg.OnRound(p.Figures())
	}
}

func (p *Prober) sample(ctx context.Context, ep string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	start := time.Now()
	c, err := p.cfg.Dial(ctx, ep)
	if err != nil {
		return 0, fmt.Errorf("rtt sample of %s: %w", ep, err)
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	_ = c.Close()
	if ms <= 0 {
		ms = 0.001 // a figure of 0 means "not measured" to placement
	}
	return ms, nil
}

func (p *Prober) record(ep string, ms float64, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.windows[ep]
	if w == nil {
		w = NewWindow(p.cfg.Window)
		p.windows[ep] = w
	}
	w.Add(ms, at)
	// Nothing is published before a median of several samples exists: a first connect on a
	// starting node is often slow, and a first figure is published without hysteresis.
	if w.Len() >= min(3, p.cfg.Window) {
		med, _ := w.Median()
		p.settled[ep] = p.cfg.Settle.Next(p.settled[ep], med, at)
	}
}

func (p *Prober) forget(keep []string) {
	set := make(map[string]bool, len(keep))
	for _, ep := range keep {
		set[ep] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for ep := range p.windows {
		if !set[ep] {
			delete(p.windows, ep)
			delete(p.settled, ep)
		}
	}
}

// Figures returns the current figure of every measured endpoint.
func (p *Prober) Figures() map[string]Figure {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]Figure, len(p.windows))
	for ep, w := range p.windows {
		if ms, ok := w.Median(); ok {
			out[ep] = Figure{Ms: ms, Settled: p.settled[ep].Ms, Samples: w.Len(), At: w.Last()}
		}
	}
	return out
}
