package main

import (
	"context"
	"fmt"
	"time"
)

// runIdle is scenario (a): n joined, idle sockets; server RSS per connection.
func runIdle(ctx context.Context, tg *target, cfg *config, n int) *result {
	r := &result{Scenario: fmt.Sprintf("a idle %d", n), Params: map[string]any{"sockets": n, "channels": 100}}
	before, _ := readProc(tg.pid)
	// Let the fresh node settle so the baseline is not taken mid-start-up.
	time.Sleep(500 * time.Millisecond)
	if s, err := readProc(tg.pid); err == nil {
		before = s
	}
	promBefore := scrapeOrNil(tg.adminAddr)

	p := newPool(ctx, tg.dialer(cfg), tg.token)
	defer p.close()
	w := openWindow(tg.pid)
	cr := p.connect(ctx, n, cfg.connectConcurrency, func(i int) string {
		return fmt.Sprintf("realtime:idle-%d", i%100)
	})
	st := w.close()
	r.add("sockets joined", float64(cr.OK), "")
	r.add("failed", float64(cr.Failed), "")
	if cr.FirstError != "" {
		r.note("first error: %s", cr.FirstError)
	}
	r.addThroughput("connect+join", float64(cr.OK), st)

	// Idle period: nothing but heartbeats; RSS is read at the end of it.
	time.Sleep(cfg.idleSettle)
	after, err := readProc(tg.pid)
	saveSnapshot(tg, cfg, r.Scenario, "heap")
	saveSnapshot(tg, cfg, r.Scenario, "goroutine")
	r.addPerSocket(promBefore, scrapeOrNil(tg.adminAddr), cr.OK)
	if err != nil || tg.pid == 0 {
		r.note("server RSS unknown (use --spawn or --pid)")
		return r
	}
	r.add("server RSS before", float64(before.RSSBytes)/(1<<20), "MiB")
	r.add("server RSS with sockets", float64(after.RSSBytes)/(1<<20), "MiB")
	if cr.OK > 0 {
		perConn := float64(after.RSSBytes-before.RSSBytes) / float64(cr.OK) / 1024
		r.add("server RSS per joined socket", perConn, "KiB")
	}
	if d := p.disconnected(); d > 0 {
		r.add("sockets closed during idle period", float64(d), "")
		for _, m := range p.systemMessages(5) {
			r.note("%s", m)
		}
	}
	return r
}

// runConnect is scenario (e): connect + join rate, with JWT verification on the upgrade and on
// the join (the join carries access_token, as realtime-js does after setAuth).
func runConnect(ctx context.Context, tg *target, cfg *config) *result {
	n, conc := cfg.connectCount, cfg.connectConcurrency
	r := &result{Scenario: "e connect+join", Params: map[string]any{"sockets": n, "concurrency": conc}}
	p := newPool(ctx, tg.dialer(cfg), tg.token)
	defer p.close()
	w := openWindow(tg.pid)
	cr := p.connect(ctx, n, conc, func(i int) string { return fmt.Sprintf("realtime:connect-%d", i%1000) })
	st := w.close()
	r.add("sockets joined", float64(cr.OK), "")
	r.add("failed", float64(cr.Failed), "")
	if cr.FirstError != "" {
		r.note("first error: %s", cr.FirstError)
	}
	r.addThroughput("connect+join", float64(cr.OK), st)
	if st.ServerKnow && cr.OK > 0 {
		r.add("server CPU per connect+join", st.ServerCPU/float64(cr.OK)*1e6, "µs")
	}
	r.addLatency("connect+join latency", summarize(cr.Latencies))
	return r
}
