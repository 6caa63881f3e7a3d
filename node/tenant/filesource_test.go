package tenant

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const twoTenants = secretDoc + "---\n" +
	"apiVersion: realtime.realtimeops.io/v1alpha1\nkind: Tenant\nmetadata: {name: one}\nspec: {jwt: {secretRef: {name: jwt, key: secret}}}\n---\n" +
	"apiVersion: realtime.realtimeops.io/v1alpha1\nkind: Tenant\nmetadata: {name: two}\nspec: {jwt: {secretRef: {name: jwt, key: secret}}}\n"

type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 100)} }

func (r *recorder) add(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) take() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFileSourceReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	writeFile(t, path, twoTenants)
	s, err := NewFileSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if all := s.All(); len(all) != 2 || all[0].ExternalID != "one" || all[1].ExternalID != "two" {
		t.Fatalf("All = %+v", all)
	}
	rec := newRecorder()
	s.Subscribe(rec.add)
	oldOne, _ := s.Get("one")
	oldTwo, _ := s.Get("two")

	// Change "two", add "three", keep "one" identical (reformatted only).
	next := strings.Replace(twoTenants, "metadata: {name: two}\nspec: {", "metadata: {name: two}\nspec: {suspend: true, ", 1)
	next = strings.Replace(next, "metadata: {name: one}", "metadata:\n  name: one", 1)
	next += "---\napiVersion: realtime.realtimeops.io/v1alpha1\nkind: Tenant\nmetadata: {name: three}\nspec: {jwt: {secretRef: {name: jwt, key: other}}}\n"
	writeFile(t, path, next)
	if n, err := s.Reload(); err != nil || n != 2 {
		t.Fatalf("Reload = %d, %v", n, err)
	}
	ev := rec.take()
	if len(ev) != 2 || ev[0].Old != nil || ev[0].New.ExternalID != "three" ||
		ev[1].Old != oldTwo || !ev[1].New.Suspend {
		t.Fatalf("events = %+v", ev)
	}
	if one, _ := s.Get("one"); one != oldOne {
		t.Fatal("unchanged tenant was replaced")
	}

	// Same content again: nothing happens.
	if n, err := s.Reload(); err != nil || n != 0 || len(rec.take()) != 0 {
		t.Fatalf("no-op reload = %d, %v", n, err)
	}

	// A bad file keeps the previous state and emits nothing.
	writeFile(t, path, next+"---\nkind: Tenant\napiVersion: realtime.realtimeops.io/v1alpha1\nmetadata: {name: BAD}\n")
	if _, err := s.Reload(); err == nil || !strings.Contains(err.Error(), "Tenant default/BAD") {
		t.Fatalf("bad reload err = %v", err)
	}
	if _, ok := s.Get("three"); !ok || len(s.All()) != 3 || len(rec.take()) != 0 {
		t.Fatal("bad reload changed state")
	}

	// Deleting a tenant emits Old only.
	writeFile(t, path, twoTenants)
	if _, err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	ev = rec.take()
	if len(ev) != 2 || ev[0].New != nil || ev[0].Old.ExternalID != "three" || ev[1].New.Suspend {
		t.Fatalf("events = %+v", ev)
	}
}

func TestFileSourceRunPolls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	writeFile(t, path, twoTenants)
	s, err := NewFileSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.interval = 10 * time.Millisecond
	rec := newRecorder()
	s.Subscribe(rec.add)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	// Remove the file (logged, state kept), then write a changed version.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if len(s.All()) != 2 {
		t.Fatal("missing file dropped tenants")
	}
	writeFile(t, path, strings.Replace(twoTenants, "{name: one}\nspec: {", "{name: one}\nspec: {privateOnly: true, ", 1))
	select {
	case <-rec.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no event after the file changed")
	}
	if one, _ := s.Get("one"); !one.PrivateOnly {
		t.Fatal("change not applied")
	}
	if ev := rec.take(); len(ev) != 1 {
		t.Fatalf("events = %+v", ev)
	}
}

func TestNewFileSourceErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewFileSource(filepath.Join(dir, "missing.yaml"), nil); err == nil {
		t.Fatal("missing file accepted")
	}
	path := filepath.Join(dir, "bad.yaml")
	writeFile(t, path, tenantDoc("a", "jwt: {}"))
	_, err := NewFileSource(path, nil)
	if err == nil || !strings.Contains(err.Error(), "document 1 (line 1, Tenant default/a): spec.jwt:") {
		t.Fatalf("err = %v", err)
	}
}
