package pubsub

import (
	"sync"
)

// Subscriber receives messages of the topics it subscribed to. Deliver must not block: it enqueues.
type Subscriber interface {
	SubscriberID() uint64
	Deliver(m *Message)
}

// Forwarder hands locally published messages to other nodes (the cluster layer).
type Forwarder func(m *Message)

// Broker is the local topic -> subscribers table. Subscriptions are copy-on-write slices so that
// Publish iterates without holding a lock while subscribers enqueue.
type Broker struct {
	mu      sync.RWMutex
	topics  map[string][]Subscriber
	forward Forwarder
}

// NewBroker returns an empty broker that hands every Publish to forward as well (nil: a node
// alone). The forwarder is fixed here: nothing installs one while messages are published.
func NewBroker(forward Forwarder) *Broker {
	return &Broker{topics: map[string][]Subscriber{}, forward: forward}
}

// Subscribe adds s to topic (idempotent per subscriber id).
func (b *Broker) Subscribe(topic string, s Subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.topics[topic]
	for _, o := range old {
		if o.SubscriberID() == s.SubscriberID() {
			return
		}
	}
	next := make([]Subscriber, len(old), len(old)+1)
	copy(next, old)
	b.topics[topic] = append(next, s)
}

// Unsubscribe removes the subscriber with id from topic.
func (b *Broker) Unsubscribe(topic string, id uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.topics[topic]
	next := make([]Subscriber, 0, len(old))
	for _, o := range old {
		if o.SubscriberID() != id {
			next = append(next, o)
		}
	}
	if len(next) == 0 {
		delete(b.topics, topic)
		return
	}
	b.topics[topic] = next
}

// Publish delivers m to local subscribers and forwards it to the cluster. It returns the number of
// local subscribers it was handed to.
func (b *Broker) Publish(m *Message) int {
	n := b.PublishLocal(m)
	if b.forward != nil {
		b.forward(m)
	}
	return n
}

// PublishLocal delivers m to this node's subscribers only (used for messages from other nodes).
func (b *Broker) PublishLocal(m *Message) int {
	b.mu.RLock()
	subs := b.topics[m.Topic]
	b.mu.RUnlock()
	n := 0
	for _, s := range subs {
		if s.SubscriberID() == m.Exclude && m.Exclude != 0 {
			continue
		}
		s.Deliver(m)
		n++
	}
	return n
}

// HasSubscribers reports whether any local subscriber listens on topic.
func (b *Broker) HasSubscribers(topic string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.topics[topic]) > 0
}
