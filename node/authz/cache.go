package authz

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// State is a cached permission: unknown until a check ran.
type State uint8

// The states of a cached permission.
const (
	Unknown State = iota
	Denied
	Allowed
)

func (s State) String() string { return [...]string{"unknown", "denied", "allowed"}[s] }

func stateOf(b bool) State {
	if b {
		return Allowed
	}
	return Denied
}

// Policies is one channel's permission state (docs/protocol.md#private-channels).
type Policies struct {
	BroadcastRead, BroadcastWrite, PresenceRead, PresenceWrite State
}

// CanJoin means a private join succeeds if broadcast or presence may be read.
func (p Policies) CanJoin() bool { return p.BroadcastRead == Allowed || p.PresenceRead == Allowed }

// ReadChange says which read permissions flipped in SetRead, so the channel can stop delivery
// (lost) or start it (gained).
type ReadChange struct {
	BroadcastLost, BroadcastGained, PresenceLost, PresenceGained bool
}

// Cache holds one channel's Policies. Reads are set at join and after each token refresh; writes
// are checked lazily on the first broadcast / presence track and then reused.
type Cache struct {
	mu      sync.Mutex
	p       Policies
	checkMu sync.Mutex // one write check at a time per channel
}

// Get returns the current state.
func (c *Cache) Get() Policies {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.p
}

// SetRead records the result of a read check. presenceChecked says whether the check covered
// presence (it does only when presence is enabled on the channel); otherwise that state is kept.
func (c *Cache) SetRead(broadcast, presence, presenceChecked bool) ReadChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ch ReadChange
	nb := stateOf(broadcast)
	ch.BroadcastLost = c.p.BroadcastRead == Allowed && nb == Denied
	ch.BroadcastGained = c.p.BroadcastRead != Allowed && nb == Allowed
	c.p.BroadcastRead = nb
	if presenceChecked {
		np := stateOf(presence)
		ch.PresenceLost = c.p.PresenceRead == Allowed && np == Denied
		ch.PresenceGained = c.p.PresenceRead != Allowed && np == Allowed
		c.p.PresenceRead = np
	}
	return ch
}

// Reset is called on an access_token refresh, before the read check runs again with the new
// claims: write permissions go back to unknown; read permissions are kept so SetRead can report
// what flipped.
func (c *Cache) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.p.BroadcastWrite, c.p.PresenceWrite = Unknown, Unknown
}

// CanWrite answers from the cache, running the write check (both extensions) on a miss.
func (c *Cache) CanWrite(ctx context.Context, pool *pgxpool.Pool, req Request, presence bool) (bool, error) {
	if s := c.write(presence); s != Unknown {
		return s == Allowed, nil
	}
	c.checkMu.Lock()
	defer c.checkMu.Unlock()
	if s := c.write(presence); s != Unknown { // another caller checked meanwhile
		return s == Allowed, nil
	}
	b, p, err := Write(ctx, pool, req)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	c.p.BroadcastWrite, c.p.PresenceWrite = stateOf(b), stateOf(p)
	c.mu.Unlock()
	if presence {
		return p, nil
	}
	return b, nil
}

func (c *Cache) write(presence bool) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	if presence {
		return c.p.PresenceWrite
	}
	return c.p.BroadcastWrite
}
