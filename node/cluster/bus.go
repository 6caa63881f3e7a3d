package cluster

import "log/slog"

// DeliverFunc receives a broadcast that reached this node: origin is the publishing node's name,
// key the routing key (the topic), payload the message as published. It runs on a link's reader
// goroutine and must not block for long (hand off to the local fan-out and return). payload may
// be shared with relayed sends still queued: read or keep it, never modify it.
type DeliverFunc func(origin, key string, payload []byte)

// Bus moves broadcasts through the mesh as docs/protocol.md#routing routes them: from the publisher once to each
// node of its region and once to a relay per other region, which fans out inside its region.
type Bus struct {
	m       *Mesh
	typ     byte
	deliver DeliverFunc
	log     *slog.Logger
}

// NewBus registers a Bus for message type typ (TypeBroadcast unless several buses are needed)
// on m. Call before m.Run.
func NewBus(m *Mesh, typ byte, deliver DeliverFunc) *Bus {
	b := &Bus{m: m, typ: typ, deliver: deliver, log: m.log.With("component", "cluster.bus")}
	m.Handle(typ, b.receive)
	return b
}

// Publish sends a message published on this node to every other live node. It never delivers
// locally (the caller has) and never blocks; it returns how many sends were enqueued. The
// envelope is encoded once per hop kind and shared by all targets; payload may be reused by the
// caller after Publish returns.
func (b *Bus) Publish(key string, payload []byte) int {
	targets := b.m.Router().Targets(b.m.self, HopOrigin, key)
	if len(targets) == 0 {
		return 0
	}
	local := encodeEnvelope(HopLocal, b.m.self.Name, key, payload)
	var region []byte
	sent := 0
	for _, t := range targets {
		msg := local
		if t.Hop == HopRegion {
			if region == nil {
				region = withHop(local, HopRegion)
			}
			msg = region
		}
		if b.send(t, msg) {
			sent++
		}
	}
	return sent
}

// SendTo delivers a message to one peer only, not forwarded further: for traffic addressed to a
// known node (Postgres Changes go only to nodes hosting matching subscriptions).
func (b *Bus) SendTo(peer, key string, payload []byte) bool {
	return b.send(Target{Peer: peer, Hop: HopLocal}, encodeEnvelope(HopLocal, b.m.self.Name, key, payload))
}

func (b *Bus) send(t Target, msg []byte) bool {
	if !b.m.Send(t.Peer, b.typ, msg) {
		return false
	}
	if t.Hop == HopRegion {
		b.m.met.forwardedRegion.Inc()
	} else {
		b.m.met.forwardedLocal.Inc()
	}
	return true
}

// receive relays a region-hop message inside our region first (the other nodes wait on us),
// then delivers locally.
func (b *Bus) receive(from Member, p []byte) {
	env, err := decodeEnvelope(p)
	if err != nil {
		b.log.Warn("dropping malformed broadcast envelope", "from", from.Name, "err", err)
		return
	}
	if env.Hop == HopRegion {
		targets := b.m.Router().Targets(Member{Name: env.Origin}, HopRegion, env.Key)
		if len(targets) > 0 {
			// p is ours (see Handler) and env holds copies of origin and key, so the hop byte is
			// flipped in place instead of copying the whole message; Payload starts after it.
			p[0] = byte(HopLocal)
			for _, t := range targets {
				b.send(t, p)
			}
		}
	}
	b.deliver(env.Origin, env.Key, env.Payload)
}
