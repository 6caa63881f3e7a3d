package changes

import (
	"context"
	"time"

	"github.com/realtimeops/realtime/node/tenant"
)

// Hooks let the rest of the node take part in a tenant stream's life without this package knowing
// about it: the cluster layer (node/changes/remote) gates streams and holds batches back (Gate,
// Barrier), the channels receive database broadcasts (Sink) and the metrics observe their latency
// (Timing). All are optional. They are fixed when the Service is built (NewService): nothing
// installs a hook while streams run.
type Hooks struct {
	Gate    StreamGate
	Barrier Barrier
	// Sink receives database broadcasts; without one they are dropped.
	Sink   BroadcastSink
	Timing BroadcastTiming
}

// StreamGate runs when a tenant's stream is about to start on this node, before the slot is
// read. The cluster layer uses it to collect the subscriptions other nodes hold for the tenant
// (re-registration after an owner change) so that the first change read from the slot already
// has its subscribers. release runs after the stream stopped. An error (only ctx's) skips the
// stream.
type StreamGate func(ctx context.Context, t *tenant.Tenant) (release func(), err error)

// Barrier runs after a batch of changes was handed to the subscribers and before the stream may
// confirm the slot past it. A subscriber that forwards changes (to another node) waits here
// until they were accepted; an error restarts the stream from the last confirmed position, so
// the batch is delivered again rather than lost.
type Barrier func(ctx context.Context, externalID string) error

// RegisteredNotifier is implemented by a Subscriber that wants to know when its subscription
// was validated and entered the tenant's registry (changes from then on are matched to it).
// Subscribe calls Registered once, before readiness ("Subscribed to PostgreSQL").
type RegisteredNotifier interface {
	Registered()
}

// BroadcastTiming observes each database broadcast with its row's inserted_at (UTC) and its
// transaction's commit time, for upstream's realtime_tenants_broadcast_from_database latency
// metrics (latency_inserted_at, latency_committed_at).
type BroadcastTiming func(t *tenant.Tenant, insertedAt, committedAt time.Time)
