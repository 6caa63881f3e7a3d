package channel

import "sync"

// Users counts, per tenant, the sockets with at least one joined channel (the concurrent-users
// limit): the node's one record of them, which the cluster layer gossips (cluster.Counters reads
// Snapshot) and completes with the other nodes' counts (remote).
type Users struct {
	mu     sync.Mutex
	local  map[string]int
	remote func(tenant string) int
}

// NewUsers returns an empty counter; remote gives the other nodes' counts (cluster.Counters.Remote,
// nil for a node alone).
func NewUsers(remote func(tenant string) int) *Users {
	return &Users{local: map[string]int{}, remote: remote}
}

// Add changes the local count of tenant by delta.
func (u *Users) Add(tenant string, delta int) {
	u.mu.Lock()
	u.local[tenant] += delta
	if u.local[tenant] <= 0 {
		delete(u.local, tenant)
	}
	u.mu.Unlock()
}

// Local is this node's count for tenant.
func (u *Users) Local(tenant string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.local[tenant]
}

// Total is the cluster-wide count for tenant.
func (u *Users) Total(tenant string) int {
	n := u.Local(tenant)
	if u.remote != nil {
		n += u.remote(tenant)
	}
	return n
}

// Snapshot copies the local counts (for gossip and metrics).
func (u *Users) Snapshot() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]int, len(u.local))
	for k, v := range u.local {
		out[k] = v
	}
	return out
}
