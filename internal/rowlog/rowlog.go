// Package rowlog records, for Postgres Changes delivery tests, which row ids reached a subscriber
// and when, and the postgres_changes system messages it received.
package rowlog

import (
	"strings"
	"sync"
	"time"

	"github.com/realtimeops/realtime/node/changes"
)

// Log is safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	count  map[int64]int
	first  map[int64]time.Time
	system []string
}

// New returns an empty log.
func New() *Log { return &Log{count: map[int64]int{}, first: map[int64]time.Time{}} }

// Row records one delivery of row id.
func (l *Log) Row(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count[id]++
	if _, ok := l.first[id]; !ok {
		l.first[id] = time.Now()
	}
}

// System records a system message as "status: message".
func (l *Log) System(status, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.system = append(l.system, status+": "+message)
}

// Subscribed counts the "Subscribed to PostgreSQL" messages.
func (l *Log) Subscribed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.system {
		if s == "ok: "+changes.SubscribedMessage {
			n++
		}
	}
	return n
}

// Has reports whether row id arrived.
func (l *Log) Has(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[id] > 0
}

// At returns when row id first arrived.
func (l *Log) At(id int64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.first[id]
	return at, ok
}

// FirstAfter returns when the first row with an id above id arrived.
func (l *Log) FirstAfter(id int64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for k, at := range l.first {
		if k > id && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

// Missing returns the ids that never arrived.
func (l *Log) Missing(ids []int64) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for _, id := range ids {
		if l.count[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// SystemText joins the system messages for failure output.
func (l *Log) SystemText() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.system, " | ")
}
