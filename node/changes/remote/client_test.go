package remote

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/changes"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/tenant"
)

// callbackCtx is a never-ending context that counts the AfterFunc callbacks registered on it,
// like a connection's context that lives across many joins and leaves.
type callbackCtx struct {
	done chan struct{}
	mu   sync.Mutex
	live int
}

func (c *callbackCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *callbackCtx) Done() <-chan struct{}       { return c.done }
func (c *callbackCtx) Err() error                  { return nil }
func (c *callbackCtx) Value(any) any               { return nil }

func (c *callbackCtx) AfterFunc(func()) func() bool {
	c.mu.Lock()
	c.live++
	c.mu.Unlock()
	var once sync.Once
	return func() bool {
		once.Do(func() { c.mu.Lock(); c.live--; c.mu.Unlock() })
		return true
	}
}

var _ context.Context = (*callbackCtx)(nil)

func (c *callbackCtx) callbacks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// An explicit unsubscribe must release what the subscription registered on the caller's context;
// otherwise every join/leave on a long-lived connection leaves a callback behind.
func TestUnsubscribeReleasesContextCallback(t *testing.T) {
	self := cluster.Member{Name: "a", Addr: "127.0.0.1:0"}
	mesh := cluster.NewMesh(self, testSecret, cluster.NewStaticDiscovery(self), cluster.Options{}, testLog(), nil)
	l := New(Config{Mesh: mesh, Tenants: func(string) (*tenant.Tenant, bool) { return nil, false }, Log: testLog()}, bareService)
	bindings, err := changes.ParseBindings(json.RawMessage(`[{"event":"*","schema":"public"}]`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := &callbackCtx{done: make(chan struct{})}
	tn := &tenant.Tenant{ExternalID: "t1"}
	for range 3 {
		unsubscribe := l.Subscribe(ctx, tn, nil, bindings, newRecorder())
		if got := ctx.callbacks(); got != 1 {
			t.Fatalf("callbacks while subscribed = %d, want 1", got)
		}
		unsubscribe()
		unsubscribe() // idempotent
	}
	if got := ctx.callbacks(); got != 0 {
		t.Fatalf("callbacks after unsubscribe = %d, want 0", got)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.subs) != 0 || len(l.byTenant) != 0 {
		t.Fatalf("subscriptions left: %d subs, %d tenants", len(l.subs), len(l.byTenant))
	}
}
