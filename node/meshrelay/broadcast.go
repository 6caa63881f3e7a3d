package meshrelay

import (
	"log/slog"
	"sync"

	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/pubsub"
)

// NewBroker builds a clustered node's pub/sub broker: every message published here also goes to
// the other nodes through the region-aware bus (docs/protocol.md#routing), and the bus publishes
// theirs here. The broker forwards to the bus and the bus delivers to the broker, a true cycle,
// closed here before the mesh runs (the bus delivers only from mesh.Run), so neither is patched
// after construction.
func NewBroker(mesh *cluster.Mesh, log *slog.Logger) *pubsub.Broker {
	var b *pubsub.Broker
	bus := cluster.NewBus(mesh, cluster.TypeBroadcast, func(origin, _ string, payload []byte) {
		m, err := pubsub.DecodeWire(payload)
		if err != nil {
			log.Warn("dropping malformed cluster message", "from", origin, "err", err)
			return
		}
		b.PublishLocal(m)
	})
	b = pubsub.NewBroker(func(m *pubsub.Message) { forward(bus, m) })
	return b
}

// wireBufs recycles forward's encoding buffer: Bus.Publish copies the payload into its envelope,
// so the buffer is free again once Publish returns, and every publish would otherwise allocate it.
var wireBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledWire keeps one huge message from pinning its buffer in the pool.
const maxPooledWire = 64 << 10

// forward sends a locally published message to the other nodes, encoded once.
func forward(bus *cluster.Bus, m *pubsub.Message) {
	buf := wireBufs.Get().(*[]byte)
	*buf = m.AppendWire((*buf)[:0])
	bus.Publish(m.Topic, *buf)
	if cap(*buf) <= maxPooledWire {
		wireBufs.Put(buf)
	}
}

// NewUsers builds a clustered node's connected-user counts: cluster.Counters gossips this node's
// counts (Users.Snapshot) and Users.Total adds the other nodes' (Counters.Remote). Each needs the
// other, a true cycle, closed here before the mesh runs (Counters reads Snapshot only from its
// Run). realtime_connections_connected_cluster is exported once, by channel.Metrics over these
// Users (a second registration made every clustered node panic at start, "previously registered
// descriptor", seen in real pods).
func NewUsers(mesh *cluster.Mesh) (*channel.Users, *cluster.Counters) {
	var users *channel.Users
	counters := cluster.NewCounters(mesh, cluster.CountersOptions{Local: func() map[string]int { return users.Snapshot() }})
	users = channel.NewUsers(counters.Remote)
	return users, counters
}
