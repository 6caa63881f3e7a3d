package inspector

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// ErrorRecord is one log record at WARN or above, as the node view lists it.
type ErrorRecord struct {
	Time    time.Time         `json:"time"`
	Level   string            `json:"level"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// RecentErrors keeps the node's last log records at WARN or above for the node view. Wrap the
// node's log handler with Handler; List returns them newest first.
type RecentErrors struct {
	mu   sync.Mutex
	buf  []ErrorRecord
	next int
	full bool
}

// NewRecentErrors keeps the last n records.
func NewRecentErrors(n int) *RecentErrors {
	return &RecentErrors{buf: make([]ErrorRecord, max(n, 1))}
}

// Handler returns a handler that records WARN and above and passes everything to next.
func (r *RecentErrors) Handler(next slog.Handler) slog.Handler {
	return &ringHandler{next: next, ring: r}
}

// List returns the kept records, newest first.
func (r *RecentErrors) List() []ErrorRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []ErrorRecord{}
	if r.full {
		out = append(out, r.buf[r.next:]...)
	}
	out = append(out, r.buf[:r.next]...)
	slices.Reverse(out)
	return out
}

func (r *RecentErrors) add(rec ErrorRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = rec
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// maxAttrText bounds each kept value, so a huge error cannot pin memory.
const maxAttrText = 512

type ringHandler struct {
	next  slog.Handler
	ring  *RecentErrors
	attrs []slog.Attr // from WithAttrs, keys already prefixed by their groups
	group string
}

func (h *ringHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *ringHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		e := ErrorRecord{Time: rec.Time.UTC(), Level: rec.Level.String(), Message: clip(rec.Message)}
		put := func(a slog.Attr) {
			if e.Attrs == nil {
				e.Attrs = map[string]string{}
			}
			e.Attrs[a.Key] = clip(a.Value.Resolve().String())
		}
		for _, a := range h.attrs {
			put(a)
		}
		rec.Attrs(func(a slog.Attr) bool {
			put(h.prefixed(a))
			return true
		})
		h.ring.add(e)
	}
	if !h.next.Enabled(ctx, rec.Level) {
		return nil
	}
	return h.next.Handle(ctx, rec)
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	attrs := slices.Clone(h.attrs)
	for _, a := range as {
		attrs = append(attrs, h.prefixed(a))
	}
	return &ringHandler{next: h.next.WithAttrs(as), ring: h.ring, attrs: attrs, group: h.group}
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	g := name
	if h.group != "" {
		g = h.group + "." + name
	}
	return &ringHandler{next: h.next.WithGroup(name), ring: h.ring, attrs: h.attrs, group: g}
}

func (h *ringHandler) prefixed(a slog.Attr) slog.Attr {
	if h.group != "" {
		a.Key = h.group + "." + a.Key
	}
	return a
}

func clip(s string) string {
	if len(s) > maxAttrText {
		return s[:maxAttrText] + "…"
	}
	return s
}
