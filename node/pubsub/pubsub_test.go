package pubsub

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/realtimeops/realtime/node/phoenix"
)

type sub struct {
	id  uint64
	mu  sync.Mutex
	got []*Message
}

func (s *sub) SubscriberID() uint64 { return s.id }
func (s *sub) Deliver(m *Message) {
	s.mu.Lock()
	s.got = append(s.got, m)
	s.mu.Unlock()
}

func TestPublishExcludesSenderAndTopics(t *testing.T) {
	b := NewBroker(nil)
	a, c, other := &sub{id: 1}, &sub{id: 2}, &sub{id: 3}
	b.Subscribe("t:room", a)
	b.Subscribe("t:room", a) // idempotent
	b.Subscribe("t:room", c)
	b.Subscribe("t-private:room", other)
	n := b.Publish(&Message{Topic: "t:room", Exclude: 1})
	if n != 1 || len(a.got) != 0 || len(c.got) != 1 || len(other.got) != 0 {
		t.Fatalf("n=%d a=%d c=%d other=%d", n, len(a.got), len(c.got), len(other.got))
	}
	b.Unsubscribe("t:room", 2)
	if b.Publish(&Message{Topic: "t:room"}) != 1 {
		t.Fatal("after unsubscribe only a remains")
	}
	b.Unsubscribe("t:room", 1)
	if b.HasSubscribers("t:room") {
		t.Fatal("topic must be gone")
	}
}

func TestFramesPerVersion(t *testing.T) {
	user := &Message{WireTopic: "realtime:room1", Event: "broadcast",
		User: &phoenix.UserBroadcast{Event: "cursor", Encoding: phoenix.EncodingJSON, Payload: []byte(`{"x":1}`)}}
	v2 := user.Frame(phoenix.V2)
	if !v2.Binary || v2.Data[0] != 4 {
		t.Fatalf("V2 user broadcast must be kind 4: %v", v2)
	}
	v1 := user.Frame(phoenix.V1)
	want := `{"topic":"realtime:room1","event":"broadcast","payload":{"event":"cursor","payload":{"x":1},"type":"broadcast"},"ref":null}`
	if v1.Binary || string(v1.Data) != want {
		t.Fatalf("V1 frame %s", v1.Data)
	}
	if &user.Frame(phoenix.V2).Data[0] != &v2.Data[0] {
		t.Fatal("frame must be encoded once per version")
	}
	bin := &Message{WireTopic: "realtime:room1", User: &phoenix.UserBroadcast{Event: "b", Encoding: phoenix.EncodingBinary, Payload: []byte{1, 2}}}
	if bin.Frame(phoenix.V1).Data != nil {
		t.Fatal("binary broadcast must not reach V1")
	}
	text := &Message{WireTopic: "realtime:room1", Event: "broadcast", Payload: json.RawMessage(`{"type":"broadcast","event":"e","payload":{}}`)}
	if got := string(text.Frame(phoenix.V2).Data); got != `[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"e","payload":{}}]` {
		t.Fatalf("V2 text %s", got)
	}
}

func BenchmarkPublish1000(b *testing.B) {
	br := NewBroker(nil)
	for i := 1; i <= 1000; i++ {
		br.Subscribe("t:room", &nopSub{id: uint64(i)})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m := &Message{Topic: "t:room", WireTopic: "realtime:room", Event: "broadcast", Payload: json.RawMessage(`{"type":"broadcast","event":"e","payload":{"x":1}}`)}
		br.Publish(m)
	}
}

type nopSub struct{ id uint64 }

func (s *nopSub) SubscriberID() uint64 { return s.id }
func (s *nopSub) Deliver(m *Message)   { _ = m.Frame(phoenix.V2) }
