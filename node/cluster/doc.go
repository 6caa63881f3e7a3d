// Package cluster makes several realtime nodes behave as one service (spec section 8): it finds
// the other nodes (Discovery: Postgres LISTEN/NOTIFY, DNS, static), keeps one authenticated,
// ordered, multiplexed TCP link to each of them (Mesh), decides where a broadcast goes (Router,
// spec 8.3) and moves it there (Bus), and sums per-tenant connected-user counts across the
// cluster (Counters).
//
// The package knows nothing about topics, presence or changes: callers hand it opaque payloads
// tagged with a message type byte and register a handler per type. Types below FirstUserType are
// the mesh's own (ping, ...); the Type* constants name the types this package's helpers use and
// the ones reserved for the node's presence and changes wiring, so every node agrees on them.
//
// Wiring, in a node's main:
//
//	disc := cluster.NewPostgresDiscovery(cluster.PostgresConfig{DSN: dsn, Cluster: "prod", Self: self}, log)
//	mesh := cluster.NewMesh(self, secret, disc, cluster.Options{}, log, reg)
//	bus := cluster.NewBus(mesh, cluster.TypeBroadcast, deliverToLocalSubscribers)
//	counters := cluster.NewCounters(mesh, cluster.CountersOptions{})
//	reg.MustRegister(counters.Collector())
//	// then run disc.Run, mesh.Run and counters.Run under one errgroup with the node's context.
package cluster

// Message types carried by the mesh. 0..15 belong to the mesh itself; Handle refuses them.
const (
	typePing byte = 1 // keep-alive, both directions; no payload

	// FirstUserType is the lowest type a caller may Handle.
	FirstUserType byte = 16

	TypeBroadcast     byte = 16 // Bus envelopes (pubsub fan-out, spec 8.3)
	TypeCounters      byte = 17 // Counters gossip (spec 8.3 "Census")
	TypePresenceDelta byte = 18 // reserved: presence ExtractDelta payloads
	TypePresenceState byte = 19 // reserved: presence FullState payloads
	TypePresenceAsk   byte = 20 // reserved: request a FullState transfer
	TypeChanges       byte = 21 // reserved: Postgres Changes sent point to point by the WAL owner
)
