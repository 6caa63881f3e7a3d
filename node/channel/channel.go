package channel

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/tenant"
)

var nextID atomic.Uint64

// Channel is one joined topic on one socket.
type Channel struct {
	id       uint64
	deps     *Deps
	conn     Conn
	tenant   *tenant.Tenant
	joinRef  json.RawMessage
	SubTopic string
	Wire     string // "realtime:<sub>"
	Topic    string // tenant-scoped pub/sub topic
	cfg      Config
	presKey  string

	// ctx ends when the channel stops; background work (changes, token timer) hangs off it.
	ctx    context.Context
	cancel context.CancelFunc

	mu             sync.Mutex
	stopped        bool
	token          string
	claims         auth.Claims
	perms          permissions
	presenceOn     atomic.Bool
	rateClosing    atomic.Bool
	lastTrack      json.RawMessage
	presenceWindow limiter.Window
	replayed       map[string]struct{}
	expiry         *time.Timer
	unsubChanges   func()

	// The tenant's counters, looked up once at join: every delivery counts one event.
	events, presenceEvents                 *limiter.Counter
	eventsMetric, presenceMetric, dbMetric prometheus.Counter
}

// permissions is the per-channel RLS policy cache of docs/protocol.md#private-channels (private channels only).
type permissions struct {
	broadcastRead, presenceRead   bool
	presenceReadKnown             bool  // presenceRead was evaluated (false until presence is on)
	broadcastWrite, presenceWrite *bool // nil = unknown
}

// log is the connection's logger (per-connection log_level, docs/protocol.md#upgrade-parameters).
func (c *Channel) log() *slog.Logger { return c.conn.Logger() }

// ID returns the channel's node-unique id (also its presence owner).
func (c *Channel) ID() uint64 { return c.id }

// JoinRef is the ref of the phx_join that created the channel.
func (c *Channel) JoinRef() json.RawMessage { return c.joinRef }

// SubscriberID implements pubsub.Subscriber.
func (c *Channel) SubscriberID() uint64 { return c.id }

// Deliver implements pubsub.Subscriber: gate, count, and enqueue one fan-out message.
func (c *Channel) Deliver(m *pubsub.Message) {
	switch m.Event {
	case phoenix.EventPresenceDiff:
		if !c.presenceOn.Load() || !c.canRead(false) {
			return
		}
		c.countPresence(1)
	case phoenix.EventSystem:
	default:
		if !c.canRead(true) || c.wasReplayed(m.MetaID) {
			return
		}
		c.events.Add(1)
		c.eventsMetric.Inc()
		if c.events.Triggered() {
			// Shut down off the publisher's goroutine, once, however many deliveries follow.
			if c.rateClosing.CompareAndSwap(false, true) {
				go c.Shutdown("Too many messages per second")
			}
			return
		}
	}
	if f := m.Frame(c.conn.Version()); f.Data != nil {
		c.conn.Send(f)
	}
}

func (c *Channel) canRead(broadcast bool) bool {
	if !c.cfg.Private {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if broadcast {
		return c.perms.broadcastRead
	}
	return c.perms.presenceRead
}

func (c *Channel) wasReplayed(id string) bool {
	if id == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.replayed[id]
	return ok
}

// push sends a channel push (join_ref set, ref null).
func (c *Channel) push(event string, payload json.RawMessage) {
	c.conn.Send(pubsub.Frame{Data: phoenix.EncodeText(c.conn.Version(), c.joinRef, nil, c.Wire, event, payload)})
}

// reply answers a client push on this channel.
func (c *Channel) reply(joinRef, ref json.RawMessage, status string, response json.RawMessage) {
	c.conn.Send(pubsub.Frame{Data: phoenix.EncodeReply(c.conn.Version(), joinRef, ref, c.Wire, status, response)})
}

// System pushes a `system` message for this channel (docs/protocol.md#system-messages).
func (c *Channel) System(extension, status, message string) {
	b := make([]byte, 0, 96+len(message))
	b = append(b, `{"extension":`...)
	b = append(b, phoenix.String(extension)...)
	b = append(b, `,"status":`...)
	b = append(b, phoenix.String(status)...)
	b = append(b, `,"message":`...)
	b = append(b, phoenix.String(message)...)
	b = append(b, `,"channel":`...)
	b = append(b, phoenix.String(c.SubTopic)...)
	c.push(phoenix.EventSystem, append(b, '}'))
}

// Shutdown stops the channel after a `system` error with reason (docs/protocol.md#system-messages), then phx_close.
func (c *Channel) Shutdown(reason string) {
	if !c.markStopped() {
		return
	}
	c.log().Info("channel shutdown", "code", "ChannelShutdown", "topic", c.SubTopic, "reason", reason)
	c.System("system", "error", reason)
	c.closeFrame()
	c.release()
}

// Stop ends the channel with phx_close and no system message (leave, replaced by a new join).
func (c *Channel) Stop() {
	if !c.markStopped() {
		return
	}
	c.closeFrame()
	c.release()
}

// Drop ends the channel silently (socket closed).
func (c *Channel) Drop() {
	if c.markStopped() {
		c.release()
	}
}

func (c *Channel) closeFrame() {
	c.conn.Send(pubsub.Frame{Data: phoenix.EncodeText(c.conn.Version(), c.joinRef, c.joinRef, c.Wire, phoenix.EventClose, nil)})
}

func (c *Channel) markStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return false
	}
	c.stopped = true
	return true
}

// release undoes everything the join set up.
func (c *Channel) release() {
	c.cancel()
	c.deps.Broker.Unsubscribe(c.Topic, c.id)
	c.deps.Presence.UntrackAll(presence.Owner(c.id))
	c.mu.Lock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	unsub := c.unsubChanges
	c.unsubChanges = nil
	c.mu.Unlock()
	if unsub != nil {
		unsub()
	}
	c.conn.Left(c)
}

// Stopped reports whether the channel has ended.
func (c *Channel) Stopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// bindCounters looks up the tenant's rate counters and metric series once per channel.
func (c *Channel) bindCounters() {
	t := c.tenant.ExternalID
	c.events = c.deps.Rates.Counter(t, limiter.Events)
	c.presenceEvents = c.deps.Rates.Counter(t, limiter.PresenceEvents)
	c.eventsMetric = c.deps.Metrics.Events.WithLabelValues(t)
	c.presenceMetric = c.deps.Metrics.PresenceEvents.WithLabelValues(t)
	c.dbMetric = c.deps.Metrics.DBEvents.WithLabelValues(t)
}

func (c *Channel) countPresence(n int) {
	c.presenceEvents.Add(int64(n))
	c.presenceMetric.Add(float64(n))
}

// Notice pushes a tenant-wide `system` payload (already encoded) on this channel.
func (c *Channel) Notice(payload string) { c.push(phoenix.EventSystem, []byte(payload)) }
