package server

import (
	"sync"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/tenant"
)

// keyCache parses each tenant's JWT keys once. Tenants are immutable values, so the *Tenant pointer
// identifies a configuration; a changed tenant is a new pointer and gets new keys.
type keyCache struct {
	mu   sync.Mutex
	sets map[string]cachedKeys
}

type cachedKeys struct {
	t    *tenant.Tenant
	keys *auth.KeySet
	err  error
}

func newKeyCache() *keyCache { return &keyCache{sets: map[string]cachedKeys{}} }

func (c *keyCache) get(t *tenant.Tenant) (*auth.KeySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.sets[t.ExternalID]; ok && e.t == t {
		return e.keys, e.err
	}
	keys, err := auth.NewKeySet(t.JWTSecret, t.JWKS)
	c.sets[t.ExternalID] = cachedKeys{t: t, keys: keys, err: err}
	return keys, err
}

func (c *keyCache) forget(externalID string) {
	c.mu.Lock()
	delete(c.sets, externalID)
	c.mu.Unlock()
}
