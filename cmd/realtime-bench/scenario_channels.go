package main

import (
	"context"
	"fmt"
	"time"
)

// channelsPerPublisher stays at the spec's default max_channels_per_client (100), so the scenario
// also runs against a node whose tenant keeps default limits.
const channelsPerPublisher = 100

// runChannels is scenario (d): many channels with a few subscribers each, publishers spreading a
// fixed aggregate rate round-robin over the channels.
func runChannels(ctx context.Context, tg *target, cfg *config) *result {
	nch, per, rate, dur := cfg.channels, cfg.subsPerChannel, cfg.channelsRate, cfg.channelsDuration
	r := &result{Scenario: fmt.Sprintf("d %d channels x %d", nch, per), Params: map[string]any{
		"channels": nch, "subscribers_per_channel": per, "rate_msg_s": rate, "duration_s": dur.Seconds()}}
	topic := func(ch int) string { return fmt.Sprintf("realtime:ch-%d", ch) }

	p := newPool(ctx, tg.dialer(cfg), tg.token)
	defer p.close()
	cr := p.connect(ctx, nch*per, cfg.connectConcurrency, func(i int) string { return topic(i / per) })
	if cr.Failed > 0 {
		r.Error = fmt.Sprintf("%d of %d subscribers failed: %s", cr.Failed, nch*per, cr.FirstError)
		return r
	}
	type pubChan struct {
		c   *client
		ref string
	}
	chans := make([]pubChan, nch)
	for first := 0; first < nch; first += channelsPerPublisher {
		var topics []string
		for ch := first; ch < min(nch, first+channelsPerPublisher); ch++ {
			topics = append(topics, topic(ch))
		}
		c, refs, err := p.joinedClient(ctx, topics)
		if err != nil {
			r.Error = err.Error()
			return r
		}
		for i, ref := range refs {
			chans[first+i] = pubChan{c: c, ref: ref}
		}
	}
	time.Sleep(500 * time.Millisecond)

	p.setRecordLatency(true)
	base := p.delivered()
	promBefore := scrapeOrNil(tg.addr)
	w := openWindow(tg.pid)
	sent, err := pace(ctx, rate, dur, func(seq int) error {
		ch := seq % nch
		pc := chans[ch]
		return pc.c.publish(ctx, pc.ref, topic(ch), "bench", stampedPayload(time.Now().UnixNano(), seq, cfg.payloadSize))
	})
	if err != nil {
		r.note("publishing stopped early: %v", err)
	}
	expected := int64(sent) * int64(per)
	drain(p, base, expected, 5*time.Second)
	st := w.close()
	promAfter := scrapeOrNil(tg.addr)
	delivered := p.delivered() - base

	r.add("sockets", float64(cr.OK), "")
	r.add("published", float64(sent), "msg")
	r.add("expected deliveries", float64(expected), "")
	r.add("delivered", float64(delivered), "")
	r.add("delivered/expected", float64(delivered)/float64(max(expected, 1)), "")
	r.addLatency("publish-to-receive", summarize(p.latencies()))
	r.addThroughput("deliveries", float64(delivered), st)
	r.addWriteBatching(promBefore, promAfter)
	if d := p.disconnected(); d > 0 {
		r.add("sockets disconnected", float64(d), "")
	}
	for _, m := range p.systemMessages(5) {
		r.note("%s", m)
	}
	return r
}
