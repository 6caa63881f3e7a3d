package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/tenant"
)

// fakeReplication becomes ready after `after` checks; with after < 0 it never does.
type fakeReplication struct {
	mu     sync.Mutex
	checks int
	after  int
	err    error
}

func (f *fakeReplication) ReplicationReady(*tenant.Tenant) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	if f.err != nil {
		return false, f.err
	}
	return f.after >= 0 && f.checks > f.after, nil
}

func replicationHarness(t *testing.T, rep *fakeReplication, timeout time.Duration) *harness {
	return newHarnessWith(t, fmt.Sprintf(tenantsYAML, testSecret), func(d *channel.Deps) {
		d.Replication, d.ReplicationReadyTimeout = rep, timeout
	})
}

const replicationJoin = `["1","1","realtime:rr","phx_join",{"config":{"broadcast":{"replication_ready":true}}}]`

// Upstream: realtime_channel.ex handle_info(:notify_replication_ready, ...) and its tests in
// test/realtime_web/channels/realtime_channel_replication_ready_test.exs.
func TestReplicationReadyOnceEstablished(t *testing.T) {
	rep := &fakeReplication{after: 2} // ready at the third check (after two 500 ms polls)
	c := replicationHarness(t, rep, time.Minute).dial("2.0.0")
	c.send(replicationJoin)
	c.expect(`phx_reply`, `"ok"`)
	if f := c.expect(`"system"`); f != `["1",null,"realtime:rr","system",{"extension":"system","status":"ok","message":"Replication connection established","channel":"rr"}]` {
		t.Fatalf("system message %s", f)
	}
	c.expectNone(`Replication connection`, 1200*time.Millisecond) // notified once
}

func TestReplicationReadyTimeoutShutsTheChannelDown(t *testing.T) {
	c := replicationHarness(t, &fakeReplication{after: -1}, 700*time.Millisecond).dial("2.0.0")
	c.send(replicationJoin)
	c.expect(`phx_reply`, `"ok"`)
	if f := c.expect(`"system"`); f != `["1",null,"realtime:rr","system",{"extension":"system","status":"error","message":"Replication connection was not established in time","channel":"rr"}]` {
		t.Fatalf("system message %s", f)
	}
	c.expect(`["1","1","realtime:rr","phx_close",{}]`)
}

func TestReplicationReadyWithoutDatabaseFailsAtOnce(t *testing.T) {
	c := replicationHarness(t, &fakeReplication{err: channel.ErrNoReplication}, time.Hour).dial("1.0.0")
	c.send(`{"topic":"realtime:rr","event":"phx_join","payload":{"config":{"broadcast":{"replication_ready":"true"}}},"ref":"1","join_ref":"1"}`)
	c.expect(`phx_reply`, `"ok"`)
	c.expect(`"event":"system"`, `"status":"error"`, `Replication connection was not established in time`)
	c.expect(`"event":"phx_close"`)
}

func TestReplicationReadyNotArmedUnlessOptedIn(t *testing.T) {
	rep := &fakeReplication{after: 0}
	c := replicationHarness(t, rep, time.Minute).dial("2.0.0")
	c.send(`["1","1","realtime:rr","phx_join",{"config":{}}]`)
	c.expect(`phx_reply`, `"ok"`)
	c.expectNone(`"system"`, 700*time.Millisecond)
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if rep.checks != 0 {
		t.Fatalf("replication checked %d times without replication_ready", rep.checks)
	}
}

// A track that enables presence (no config.presence.enabled at join) pushes presence_state with
// the members tracked earlier (supabase/realtime#2196), before the track's reply.
func TestTrackEnablingPresencePushesState(t *testing.T) {
	h := newHarness(t)
	a, b := h.dial("2.0.0"), h.dial("2.0.0")
	b.send(`["1","1","realtime:p","phx_join",{"config":{"presence":{"key":"bo","enabled":true}}}]`)
	b.expect(`presence_state`)
	b.send(`["1","2","realtime:p","presence",{"type":"presence","event":"track","payload":{"user":"bo"}}]`)
	b.expect(`phx_reply`, `"2"`)
	a.send(`["1","1","realtime:p","phx_join",{"config":{"presence":{"key":"ana","enabled":false}}}]`)
	a.expect(`phx_reply`, `"ok"`)
	a.send(`["1","2","realtime:p","presence",{"type":"presence","event":"track","payload":{"user":"ana"}}]`)
	state := a.expect(`presence_state`)
	if !strings.HasPrefix(state, `["1",null,"realtime:p","presence_state",{`) || !containsAll(state, []string{`"bo":{"metas":[{`, `"ana":{"metas":[{`}) {
		t.Fatalf("presence_state %s", state)
	}
	a.expect(`["1","2","realtime:p","phx_reply",{"status":"ok","response":{}}]`)
	// Diffs flow to a from now on; a second track (an update) pushes no second state.
	b.send(`["1","3","realtime:p","presence",{"type":"presence","event":"track","payload":{"user":"bo","away":true}}]`)
	a.expect(`presence_diff`, `"away":true`)
	a.send(`["1","3","realtime:p","presence",{"type":"presence","event":"track","payload":{"user":"ana","n":2}}]`)
	a.expectNone(`presence_state`, 300*time.Millisecond)
}

// suspendable hides tenant changes from the server (no disconnect), so a join can meet a tenant
// suspended after its socket connected.
type suspendable struct {
	tenant.Registry
	mu        sync.Mutex
	suspended bool
}

func (s *suspendable) Get(id string) (*tenant.Tenant, bool) {
	t, ok := s.Registry.Get(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok && s.suspended {
		cp := *t
		cp.Suspend = true
		return &cp, true
	}
	return t, ok
}

// Upstream: realtime_channel.ex join/3 ({:error, :tenant_suspended}) and connect.ex tenant_suspended?/1.
func TestJoinOnSuspendedTenant(t *testing.T) {
	var reg *suspendable
	h := newHarnessWith(t, fmt.Sprintf(tenantsYAML, testSecret), func(d *channel.Deps) {
		reg = &suspendable{Registry: d.Tenants}
		d.Tenants = reg
	})
	c := h.dial("2.0.0")
	reg.mu.Lock()
	reg.suspended = true
	reg.mu.Unlock()
	c.send(`["1","1","realtime:s","phx_join",{"config":{}}]`)
	if f := c.expect(`phx_reply`); f != `["1","1","realtime:s","phx_reply",{"status":"error","response":{"reason":"RealtimeDisabledForTenant: Realtime disabled for this tenant"}}]` {
		t.Fatalf("reply %s", f)
	}
	c.send(`[null,"2","phoenix","heartbeat",{}]`) // the socket stays open
	c.expect(`"2"`, `"ok"`)
}

// Upstream: realtime_channel.ex can_replay?/3, maybe_replay_messages/5 (only a map is replayed;
// any replay key is refused on a public channel).
func TestNonObjectReplay(t *testing.T) {
	c := newHarness(t).dial("2.0.0")
	for i, v := range []string{`5`, `"x"`, `null`, `[]`} {
		c.send(fmt.Sprintf(`["%d","%d","realtime:pub%d","phx_join",{"config":{"broadcast":{"replay":%s}}}]`, i, i, i, v))
		c.expect(fmt.Sprintf(`["%d","%d","realtime:pub%d","phx_reply",{"status":"error","response":{"reason":"UnableToReplayMessages: Replay is not allowed for public channels"}}]`, i, i, i))
	}
}
