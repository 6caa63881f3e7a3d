package remote

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/cluster"
)

// Flush returns once every change of the tenant committed before the call was handed to this
// node's channels, or ctx ends. It asks the tenant's claimants (this node's own stream directly,
// a peer with a flush that it acks after its stream passed the point: links are ordered, so the
// ack comes after every change it forwarded before). While nobody claims the tenant (the WAL work
// is moving) it waits for the next claimant: a draining node calls it before closing sockets, and
// the changes committed during a handoff come from the new owner. A tenant with no channel on
// this node needs nothing.
func (l *Layer) Flush(ctx context.Context, tenantID string) error {
	for {
		wake := l.wakeCh()
		l.mu.Lock()
		if len(l.byTenant[tenantID]) == 0 {
			l.mu.Unlock()
			return nil
		}
		asked := slices.Sorted(maps.Keys(l.claimants[tenantID]))
		var waits []*ackWait
		var seqs []uint64
		self := false
		for _, node := range asked {
			if node == l.self.Name {
				self = true
				continue
			}
			seq, a := l.expectAckLocked(node)
			waits, seqs = append(waits, a), append(seqs, seq)
			l.sendControl(node, opFlush, tenantID, seq)
		}
		l.mu.Unlock()
		done, err := l.flushAt(ctx, tenantID, asked, self, waits, wake)
		l.forgetAcks(seqs)
		if done || err != nil {
			return err
		}
	}
}

// flushAt waits for this node's stream and the asked peers' acks. It returns done=false when the
// tenant's claimants changed meanwhile (a claimant released it, or nobody claimed it and now
// someone does): the caller asks again.
func (l *Layer) flushAt(ctx context.Context, tenantID string, asked []string, self bool, waits []*ackWait, wake <-chan struct{}) (bool, error) {
	if self {
		if err := l.svc.Flush(ctx, tenantID); err != nil && !errors.Is(err, changes.ErrNotStreaming) {
			return true, err
		}
	}
	if len(asked) == 0 {
		waits = append(waits, &ackWait{ch: make(chan struct{})}) // never acked: wait for a claim
	}
	for _, a := range waits {
		for waiting := true; waiting; {
			select {
			case <-a.ch: // acked, or the peer went down (its changes went with it)
				waiting = false
			case <-wake:
				wake = l.wakeCh() // before the check: a change after it closes the new one
				if l.claimantsChanged(tenantID, asked) {
					return false, nil
				}
			case <-ctx.Done():
				return true, ctx.Err()
			}
		}
	}
	return true, nil
}

func (l *Layer) claimantsChanged(tenantID string, asked []string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !slices.Equal(asked, slices.Sorted(maps.Keys(l.claimants[tenantID])))
}

// onFlush answers a peer's flush once this node's stream passed the point (opAck on the same
// link, after every change sent before it). A node that does not stream the tenant does not
// answer: the asking node's deadline ends its wait.
func (l *Layer) onFlush(from cluster.Member, tenantID string, seq uint64) {
	go func() { // owned by the layer: l.ctx ends with it; the wait is bounded
		ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
		defer cancel()
		if err := l.svc.Flush(ctx, tenantID); err != nil {
			l.log.Debug("flush not answered", "peer", from.Name, "tenant", tenantID, "err", err)
			return
		}
		l.sendControl(from.Name, opAck, "", seq)
	}()
}
