package meshrelay

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/pubsub"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// twoMeshes builds two real meshes on loopback that know each other statically; run starts them
// (and anything else given) until the test ends.
func twoMeshes(t *testing.T) (a, b *cluster.Mesh, run func(...func(context.Context) error)) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var members []cluster.Member
	var lns []net.Listener
	for i := range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		members = append(members, cluster.Member{Name: "n" + strconv.Itoa(i+1), Region: "local", Addr: ln.Addr().String(), Epoch: int64(i + 1)})
	}
	var meshes []*cluster.Mesh
	for i, m := range members {
		meshes = append(meshes, cluster.NewMesh(m, testSecret, cluster.NewStaticDiscovery(members...),
			cluster.Options{Listener: lns[i], PingInterval: 200 * time.Millisecond, DeadAfter: 2 * time.Second}, log, nil))
	}
	run = func(fns ...func(context.Context) error) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, f := range append([]func(context.Context) error{meshes[0].Run, meshes[1].Run}, fns...) {
			wg.Go(func() { _ = f(ctx) })
		}
		t.Cleanup(func() { cancel(); wg.Wait() })
		testutil.Eventually(t, 10*time.Second, "the two meshes linked", func() bool {
			return len(meshes[0].Peers()) == 1 && len(meshes[1].Peers()) == 1
		})
	}
	return meshes[0], meshes[1], run
}

type countingSub struct {
	id  uint64
	got atomic.Int64
}

func (s *countingSub) SubscriberID() uint64    { return s.id }
func (s *countingSub) Deliver(*pubsub.Message) { s.got.Add(1) }

// NewBroker closes the broker ⇄ bus cycle in its constructor: a message published on one node's
// broker reaches its own subscribers and a subscriber of the other node's broker.
func TestNewBrokerCarriesPublishesAcrossTheMesh(t *testing.T) {
	a, b, run := twoMeshes(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	brA, brB := NewBroker(a, log), NewBroker(b, log)
	run()
	atB, atA := &countingSub{id: 1}, &countingSub{id: 2}
	brB.Subscribe("t:room", atB)
	brA.Subscribe("t:room", atA)
	msg := func() *pubsub.Message {
		return &pubsub.Message{Topic: "t:room", WireTopic: "realtime:room", Event: "broadcast", Payload: json.RawMessage(`{}`)}
	}
	testutil.Eventually(t, 10*time.Second, "node 1's publish at node 2's subscriber", func() bool {
		brA.Publish(msg())
		return atB.got.Load() > 0
	})
	if atA.got.Load() == 0 {
		t.Error("node 1's own subscriber got nothing")
	}
}

// NewUsers closes the users ⇄ counters cycle: each node's Total adds the other node's count,
// gossiped from its Snapshot.
func TestNewUsersSumsAcrossTheMesh(t *testing.T) {
	a, b, run := twoMeshes(t)
	usersA, countersA := NewUsers(a)
	usersB, countersB := NewUsers(b)
	usersA.Add("t", 2)
	usersB.Add("t", 1)
	run(countersA.Run, countersB.Run) // a link coming up sends the counts at once
	testutil.Eventually(t, 10*time.Second, "cluster-wide totals", func() bool {
		return usersA.Total("t") == 3 && usersB.Total("t") == 3
	})
	if usersA.Local("t") != 2 || usersB.Local("t") != 1 {
		t.Errorf("local counts changed: %d, %d", usersA.Local("t"), usersB.Local("t"))
	}
}
