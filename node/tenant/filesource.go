package tenant

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"
)

// DefaultPollInterval is how often FileSource.Run checks the file.
const DefaultPollInterval = time.Second

// FileSource serves tenants from a multi-document YAML file (standalone mode, `make run`).
// It polls rather than using fsnotify so that editors' rename-on-save and Kubernetes
// ConfigMap symlink swaps are both seen.
type FileSource struct {
	path     string
	log      *slog.Logger
	interval time.Duration

	mu      sync.RWMutex
	tenants map[string]*Tenant
	subs    []func(Event)

	// reloadMu serialises reloads so events are delivered in order.
	reloadMu sync.Mutex
	seen     fileStamp // last file state read, good or bad
}

type fileStamp struct {
	modTime time.Time
	size    int64
	hash    [sha256.Size]byte
}

var _ Registry = (*FileSource)(nil)

// NewFileSource reads and parses path now; the error names the document and field.
func NewFileSource(path string, log *slog.Logger) (*FileSource, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &FileSource{path: path, log: log, interval: DefaultPollInterval, tenants: map[string]*Tenant{}}
	if _, err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Run polls the file until ctx ends. A file that fails to parse is logged once per change
// and the previous tenants stay in effect.
func (s *FileSource) Run(ctx context.Context) error {
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if !s.statChanged() {
			continue
		}
		changed, err := s.Reload()
		if err != nil {
			s.log.Error("tenants file invalid; keeping previous tenants", "path", s.path, "err", err)
			continue
		}
		if changed > 0 {
			s.log.Info("tenants file reloaded", "path", s.path, "changed", changed)
		}
	}
}

func (s *FileSource) statChanged() bool {
	fi, err := os.Stat(s.path)
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err != nil {
		// Reload reports a missing file once and clears the stamp; do not repeat every tick.
		return !s.seen.modTime.IsZero()
	}
	return !fi.ModTime().Equal(s.seen.modTime) || fi.Size() != s.seen.size
}

// Reload reads the file now and applies it if its content changed, returning how many tenants
// changed. On error the current tenants are kept.
func (s *FileSource) Reload() (int, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	fi, err := os.Stat(s.path)
	var data []byte
	if err == nil {
		data, err = os.ReadFile(s.path)
	}
	if err != nil {
		s.seen = fileStamp{}
		return 0, fmt.Errorf("tenants file: %w", err)
	}
	stamp := fileStamp{modTime: fi.ModTime(), size: fi.Size(), hash: sha256.Sum256(data)}
	sameContent := stamp.hash == s.seen.hash && s.seen.size == stamp.size && !s.seen.modTime.IsZero()
	s.seen = stamp
	if sameContent {
		return 0, nil
	}
	list, err := Parse(data)
	if err != nil {
		return 0, fmt.Errorf("tenants file %s: %w", s.path, err)
	}
	next := make(map[string]*Tenant, len(list))
	for _, t := range list {
		next[t.ExternalID] = t
	}
	s.mu.Lock()
	events := diff(s.tenants, next)
	// Unchanged tenants keep their pointer, so holders can compare by identity.
	for id, t := range next {
		if old, ok := s.tenants[id]; ok && reflect.DeepEqual(old, t) {
			next[id] = old
		}
	}
	s.tenants = next
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, ev := range events {
		for _, fn := range subs {
			fn(ev)
		}
	}
	return len(events), nil
}

// diff returns one event per added, removed or changed tenant, ordered by external id.
func diff(old, next map[string]*Tenant) []Event {
	var events []Event
	for id, n := range next {
		if o, ok := old[id]; !ok || !reflect.DeepEqual(o, n) {
			events = append(events, Event{Old: old[id], New: n})
		}
	}
	for id, o := range old {
		if _, ok := next[id]; !ok {
			events = append(events, Event{Old: o})
		}
	}
	sort.Slice(events, func(i, j int) bool { return eventID(events[i]) < eventID(events[j]) })
	return events
}

func eventID(e Event) string {
	if e.New != nil {
		return e.New.ExternalID
	}
	return e.Old.ExternalID
}

// Get returns the tenant with the given external id.
func (s *FileSource) Get(externalID string) (*Tenant, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[externalID]
	return t, ok
}

// Subscribe registers fn for every later change. fn runs on the reloading goroutine and must
// not block.
func (s *FileSource) Subscribe(fn func(Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
}

// All returns every tenant, ordered by external id.
func (s *FileSource) All() []*Tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Tenant, 0, len(s.tenants))
	for _, t := range s.tenants {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExternalID < out[j].ExternalID })
	return out
}
