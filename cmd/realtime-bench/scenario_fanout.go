package main

import (
	"context"
	"fmt"
	"time"
)

// pace calls send(seq) rate times per second for dur, in small bursts every 2 ms, and returns
// how many messages were sent. A send error ends the run early.
func pace(ctx context.Context, rate int, dur time.Duration, send func(seq int) error) (int, error) {
	start := time.Now()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	total := int(float64(rate) * dur.Seconds())
	for sent < total {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-tick.C:
		}
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		for ; sent < due; sent++ {
			if err := send(sent); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// drain waits until the pool's deliveries reach want or timeout passes.
func drain(p *pool, base, want int64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && p.delivered()-base < want {
		time.Sleep(10 * time.Millisecond)
	}
}

// fanoutSetup joins subs sockets and one publisher to a single channel.
func fanoutSetup(ctx context.Context, tg *target, cfg *config, subs int, topic string) (*pool, *client, string, connectResult, error) {
	p := newPool(ctx, tg.dialer(cfg), tg.token)
	cr := p.connect(ctx, subs, cfg.connectConcurrency, func(int) string { return topic })
	if cr.Failed > 0 {
		p.close()
		return nil, nil, "", cr, fmt.Errorf("%d of %d subscribers failed: %s", cr.Failed, subs, cr.FirstError)
	}
	pub, refs, err := p.joinedClient(ctx, []string{topic})
	if err != nil {
		p.close()
		return nil, nil, "", cr, err
	}
	time.Sleep(500 * time.Millisecond) // let every subscription settle before measuring
	return p, pub, refs[0], cr, nil
}

// runFanout is scenario (b): one channel, many subscribers, a fixed publish rate.
func runFanout(ctx context.Context, tg *target, cfg *config) *result {
	subs, rate, dur := cfg.fanoutSubs, cfg.fanoutRate, cfg.fanoutDuration
	r := &result{Scenario: "b fan-out", Params: map[string]any{
		"subscribers": subs, "rate_msg_s": rate, "duration_s": dur.Seconds(), "payload_bytes": cfg.payloadSize}}
	topic := "realtime:fanout"
	p, pub, ref, _, err := fanoutSetup(ctx, tg, cfg, subs, topic)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer p.close()

	r.Params["vsn"], r.Params["publish"], r.Params["frames"] = cfg.vsn, cfg.publish, cfg.frames
	pb := newPublisher(tg, cfg, pub, ref, topic)
	stopProfile := capture(tg, cfg, r.Scenario, dur)
	defer stopProfile()
	return measureDeliveries(ctx, tg, r, p, rate, dur, receivers(cfg, subs), "subscribers disconnected", pb.wait, func(seq int) error {
		return pb.publish(ctx, seq, stampedPayload(time.Now().UnixNano(), seq, cfg.payloadSize))
	})
}

// measureDeliveries publishes at rate for dur (publish sends message seq), waits for the
// expected sent x fanout deliveries, and reports counts, latency, throughput per server
// CPU-second and write batching: the measuring part shared by the fan-out scenarios.
func measureDeliveries(ctx context.Context, tg *target, r *result, p *pool, rate int, dur time.Duration,
	fanout int, disconnectedLabel string, flush func() error, publish func(seq int) error) *result {
	p.setRecordLatency(true)
	base := p.delivered()
	promBefore := scrapeOrNil(tg.adminAddr)
	w := openWindow(tg.pid)
	sent, err := pace(ctx, rate, dur, publish)
	if err != nil {
		r.note("publishing stopped early: %v", err)
	}
	if err := flush(); err != nil {
		r.note("publishing: %v", err)
	}
	expected := int64(sent) * int64(fanout)
	drain(p, base, expected, 30*time.Second) // a starved bench reads its backlog late: count it, not loss
	st := w.close()
	promAfter := scrapeOrNil(tg.adminAddr)
	delivered := p.delivered() - base

	r.add("published", float64(sent), "msg")
	r.add("expected deliveries", float64(expected), "")
	r.add("delivered", float64(delivered), "")
	r.add("delivered/expected", float64(delivered)/float64(max(expected, 1)), "")
	r.addLatency("publish-to-receive", summarize(p.latencies()))
	r.addThroughput("deliveries", float64(delivered), st)
	r.addWriteBatching(promBefore, promAfter, delivered)
	if d := p.disconnected(); d > 0 {
		r.add(disconnectedLabel, float64(d), "")
	}
	for _, m := range p.systemMessages(5) {
		r.note("%s", m)
	}
	return r
}

// runSaturation is scenario (c): raise the publish rate step by step until deliveries/s stops
// rising. Each step's deliveries are counted inside the step's own window (backlog spills into
// the next step's count, which is what saturation looks like).
func runSaturation(ctx context.Context, tg *target, cfg *config) []*result {
	subs := cfg.satSubs
	topic := "realtime:saturation"
	p, pub, ref, _, err := fanoutSetup(ctx, tg, cfg, subs, topic)
	if err != nil {
		return []*result{{Scenario: "c saturation", Error: err.Error()}}
	}
	defer p.close()

	var (
		out              []*result
		best, bestPerCPU float64
		bestRate, flat   int
	)
	for _, rate := range cfg.satRates {
		r := &result{Scenario: fmt.Sprintf("c saturation %d msg/s", rate),
			Params: map[string]any{"subscribers": subs, "rate_msg_s": rate, "step_s": cfg.satStep.Seconds(),
				"vsn": cfg.vsn, "publish": cfg.publish, "frames": cfg.frames}}
		pb := newPublisher(tg, cfg, pub, ref, topic)
		base := p.delivered()
		promBefore := scrapeOrNil(tg.adminAddr)
		stopProfile := capture(tg, cfg, r.Scenario, cfg.satStep)
		w := openWindow(tg.pid)
		sent, err := pace(ctx, rate, cfg.satStep, func(seq int) error {
			return pb.publish(ctx, seq, stampedPayload(time.Now().UnixNano(), seq, cfg.payloadSize))
		})
		if werr := pb.wait(); werr != nil && err == nil {
			err = werr
		}
		st := w.close()
		stopProfile()
		promAfter := scrapeOrNil(tg.adminAddr)
		delivered := p.delivered() - base
		r.add("published", float64(sent), "msg")
		r.add("delivered/expected (in window)", float64(delivered)/float64(max(int64(sent)*int64(receivers(cfg, subs)), 1)), "")
		r.addThroughput("deliveries", float64(delivered), st)
		r.addWriteBatching(promBefore, promAfter, delivered)
		out = append(out, r)
		if err != nil {
			r.note("publisher error: %v", err)
			break
		}
		perSec := float64(delivered) / st.Wall.Seconds()
		if st.ServerCPU > 0 {
			bestPerCPU = max(bestPerCPU, float64(delivered)/st.ServerCPU)
		}
		if d := p.disconnected(); d > subs/10 {
			r.note("%d subscribers disconnected; stopping", d)
			break
		}
		if perSec < best*1.05 {
			flat++
		} else {
			flat = 0
		}
		if perSec > best {
			best, bestRate = perSec, rate
		}
		if flat >= 2 {
			break
		}
		time.Sleep(time.Second) // let the backlog clear between steps
	}
	sum := &result{Scenario: "c saturation peak", Params: map[string]any{"subscribers": subs}}
	sum.add("peak deliveries/s", best, "1/s")
	sum.add("at publish rate", float64(bestRate), "msg/s")
	if bestPerCPU > 0 {
		sum.add("best deliveries per server CPU-second", bestPerCPU, "1/CPU-s")
	}
	if d := p.disconnected(); d > 0 {
		sum.add("subscribers disconnected", float64(d), "")
	}
	for _, m := range p.systemMessages(5) {
		sum.note("%s", m)
	}
	return append(out, sum)
}

// receivers is how many sockets receive each message: a REST publish has no sender to exclude,
// so the publisher's joined socket receives it too.
func receivers(cfg *config, subs int) int {
	if cfg.publish == "rest" {
		return subs + 1
	}
	return subs
}
