package main

import (
	"context"
	"fmt"
	"time"
)

// channelsPerPublisher stays at upstream's default max_channels_per_client (100), so the scenario
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

	r.add("sockets", float64(cr.OK), "")
	return measureDeliveries(ctx, tg, r, p, rate, dur, per, "sockets disconnected", func() error { return nil }, func(seq int) error {
		ch := seq % nch
		pc := chans[ch]
		return pc.c.publish(ctx, pc.ref, topic(ch), "bench", stampedPayload(time.Now().UnixNano(), seq, cfg.payloadSize))
	})
}
