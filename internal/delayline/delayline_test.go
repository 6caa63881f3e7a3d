//go:build linux

package delayline

import (
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu  sync.Mutex
	got []byte
	at  []time.Time
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, b[0])
	r.at = append(r.at, time.Now())
	return len(b), nil
}

// A Line writes every packet no earlier than its due time and in the order sent, even when a
// later packet is due earlier (jitter never reorders one path).
func TestLineKeepsOrderAndDelay(t *testing.T) {
	var r recorder
	l := NewLine(&r)
	start := time.Now()
	dues := []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 40 * time.Millisecond, 0}
	for i, d := range dues {
		if err := l.Send([]byte{byte(i)}, start.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if err := l.Send([]byte{9}, start); err != ErrClosed {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if string(r.got) != "\x00\x01\x02\x03" {
		t.Fatalf("order %v, want 0 1 2 3", r.got)
	}
	for i, d := range dues {
		if r.at[i].Before(start.Add(d)) {
			t.Errorf("packet %d written %s after start, due at %s", i, r.at[i].Sub(start), d)
		}
	}
}
