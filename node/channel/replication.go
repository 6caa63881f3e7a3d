package channel

import (
	"errors"
	"time"

	"github.com/realtimeops/realtime/node/tenant"
)

// Replication reports whether a tenant's replication connection is up, for joins with
// config.broadcast.replication_ready (docs/protocol.md#post-join-pushes, #system-messages).
type Replication interface {
	// ReplicationReady is (true, nil) once the connection is established, (false,
	// ErrNoReplication) when it can never be (the tenant has no database), and false with any other
	// error or none while it is not up yet.
	ReplicationReady(t *tenant.Tenant) (bool, error)
}

// ErrNoReplication means the tenant has no replication connection to wait for.
var ErrNoReplication = errors.New("tenant has no replication connection")

// Upstream's values (realtime_channel.ex @replication_ready_check_interval, config.exs
// replication_ready_timeout).
const (
	replicationCheckInterval       = 500 * time.Millisecond
	defaultReplicationReadyTimeout = time.Minute
	// MessageReplicationReady and MessageReplicationTimeout are the `system` messages of docs/protocol.md#system-messages.
	MessageReplicationReady   = "Replication connection established"
	MessageReplicationTimeout = "Replication connection was not established in time"
)

// replication is Deps.Replication, else the Changes service when it can answer.
func (d *Deps) replication() Replication {
	if d.Replication != nil {
		return d.Replication
	}
	if r, ok := d.Changes.(Replication); ok {
		return r
	}
	return nil
}

// notifyReplicationReady mirrors upstream's handle_info(:notify_replication_ready, ...)
// (lib/realtime_web/channels/realtime_channel.ex): check now and every 500 ms; once the
// replication connection is up push `system` {"extension":"system","status":"ok","message":
// "Replication connection established","channel":<sub-topic>} once; at the deadline shut the
// channel down with "Replication connection was not established in time". A tenant without a
// database can never get there, so it gets the error variant at once instead of after a minute.
// The goroutine ends with the channel.
func (c *Channel) notifyReplicationReady() {
	rep := c.deps.replication()
	timeout := c.deps.ReplicationReadyTimeout
	if timeout <= 0 {
		timeout = defaultReplicationReadyTimeout
	}
	deadline := time.Now().Add(timeout)
	go func() {
		tick := time.NewTicker(replicationCheckInterval)
		defer tick.Stop()
		for {
			ready, err := false, ErrNoReplication
			if rep != nil {
				ready, err = rep.ReplicationReady(c.tenant)
			}
			switch {
			case ready:
				if c.Stopped() {
					return
				}
				c.System("system", "ok", MessageReplicationReady)
				return
			case errors.Is(err, ErrNoReplication) || !time.Now().Before(deadline):
				c.log().Info("replication not ready", "code", "ReplicationNotReady", "topic", c.SubTopic, "err", err)
				c.Shutdown(MessageReplicationTimeout)
				return
			}
			select {
			case <-c.ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}
