package cluster

// Message types carried by the mesh: the one registry of type bytes, so that every node agrees
// on them and no two packages can claim the same byte. 0..15 belong to the mesh itself (Handle
// refuses them); a new type is added here, and TestMessageTypesUnique checks the list.
const (
	typePing byte = 1 // keep-alive, both directions; no payload

	// FirstUserType is the lowest type a caller may Handle.
	FirstUserType byte = 16

	TypeBroadcast     byte = 16 // Bus envelopes (pubsub fan-out, docs/protocol.md#routing)
	TypeCounters      byte = 17 // Counters gossip (docs/protocol.md#routing "Census")
	TypePresenceDelta byte = 18 // presence ExtractDelta payloads (node/meshrelay)
	TypePresenceState byte = 19 // presence FullState payloads
	TypePresenceAsk   byte = 20 // request a FullState transfer

	// Postgres Changes between a tenant's WAL owner and the nodes holding its subscriptions
	// (node/changes/remote).
	TypeChange         byte = 21 // owner → channel node: one change for one subscription
	TypeChangeRegister byte = 22 // channel node → owner: register a subscription
	TypeChangeUnreg    byte = 23 // channel node → owner: drop a subscription
	TypeChangeControl  byte = 24 // both ways: claim, release, done, resync, barrier, ack
	TypeChangeSystem   byte = 25 // owner → channel node: a postgres_changes system message

	TypeRTT byte = 26 // a node's database round-trip times, to every peer (node/rtt)
)

// messageTypes names every user type above, for the uniqueness test and for logs.
var messageTypes = map[string]byte{
	"broadcast": TypeBroadcast, "counters": TypeCounters,
	"presence_delta": TypePresenceDelta, "presence_state": TypePresenceState, "presence_ask": TypePresenceAsk,
	"change": TypeChange, "change_register": TypeChangeRegister, "change_unregister": TypeChangeUnreg,
	"change_control": TypeChangeControl, "change_system": TypeChangeSystem,
	"rtt": TypeRTT,
}
