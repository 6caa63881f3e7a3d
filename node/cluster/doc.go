// Package cluster makes several realtime nodes behave as one service (docs/protocol.md#clustering): it finds
// the other nodes (Discovery: Postgres LISTEN/NOTIFY, DNS, static), keeps one authenticated,
// ordered, multiplexed TCP link to each of them (Mesh), decides where a broadcast goes (Router,
// docs/protocol.md#routing) and moves it there (Bus), and sums per-tenant connected-user counts across the
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
