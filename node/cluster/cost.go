package cluster

// Cost is what one broadcast costs the cluster's links.
type Cost struct {
	// Messages sent over links in total. Always N-1: every other node receives it exactly once.
	Messages int
	// CrossRegion messages: R-1, one per other non-empty region (a full mesh would send N-n0,
	// one per node outside the origin's region n0).
	CrossRegion int
	// Bytes and CrossRegionBytes on the wire (frame header included, TLS overhead not).
	Bytes, CrossRegionBytes int
	// MaxHops from the origin to the farthest node: 0 alone, 1 inside a region or to a relay,
	// 2 for a non-relay node of another region.
	MaxHops int
}

// BroadcastCost computes the cost of one broadcast published in region origin (an index into
// regionSizes, the node count of each region) when each link message is frameBytes on the wire
// (see FrameBytes). With N nodes over R non-empty regions:
//
//	Messages = N-1, CrossRegion = R-1, Bytes = (N-1)*frameBytes,
//	CrossRegionBytes = (R-1)*frameBytes, MaxHops = 2 if another region has >1 node.
//
// So relaying costs exactly as many messages as sending to every node directly, but crosses each
// region boundary once, which is what is slow and billed. Each hop encodes the message once: the
// relay flips the hop byte of the envelope it received and shares it among its targets.
func BroadcastCost(regionSizes []int, origin int, frameBytes int) Cost {
	var c Cost
	for i, n := range regionSizes {
		if n <= 0 {
			continue
		}
		if i == origin {
			c.Messages += n - 1
			if n > 1 {
				c.MaxHops = max(c.MaxHops, 1)
			}
			continue
		}
		c.Messages += n // one to the relay, n-1 from the relay
		c.CrossRegion++
		c.MaxHops = max(c.MaxHops, min(n, 2))
	}
	c.Bytes = c.Messages * frameBytes
	c.CrossRegionBytes = c.CrossRegion * frameBytes
	return c
}

// FrameBytes is the wire size of one Bus message: frame header, envelope, payload.
func FrameBytes(origin, key string, payload int) int {
	return frameHeader + envelopeOverhead(origin, key) + payload
}
