//go:build e2ereal

package e2ereal

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// event is one line of js/agent.mjs's output.
type event struct {
	Ev      string          `json:"ev"`
	ID      string          `json:"id"`
	Topic   string          `json:"topic"`
	Status  string          `json:"status"`
	Error   string          `json:"error"`
	What    string          `json:"what"`
	Code    int             `json:"code"`
	Row     int64           `json:"row"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Keys    []string        `json:"keys"`
	Message string          `json:"message"`
	T       int64           `json:"t"` // unix ms, the agent's clock (the same machine's)
}

func (e event) at() time.Time { return time.UnixMilli(e.T) }

// agent drives realtime-js clients in one node process (js/agent.mjs) and records their events.
type agent struct {
	t      *testing.T
	in     io.WriteCloser
	mu     sync.Mutex
	events []event
	raw    []string // the agent's output lines, written to the log directory when the test fails
	wake   chan struct{}
}

func startAgent(t *testing.T) *agent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "js/agent.mjs")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node js/agent.mjs: %v", err)
	}
	a := &agent{t: t, in: in, wake: make(chan struct{})}
	done := make(chan struct{})
	go func() { // owned: ends when the agent's stdout closes (process exit, at cleanup)
		defer close(done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				continue
			}
			if e.Ev == "error" {
				t.Logf("agent error (%s): %s", e.ID, e.Error)
			}
			a.mu.Lock()
			a.events = append(a.events, e)
			a.raw = append(a.raw, sc.Text())
			close(a.wake)
			a.wake = make(chan struct{})
			a.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		cancel()
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("agent stderr:\n%s", stderr.String())
		}
		if t.Failed() && logDir != "" {
			name := filepath.Join(logDir, strings.NewReplacer("/", "_").Replace(t.Name())+"-agent.jsonl")
			a.mu.Lock()
			_ = os.WriteFile(name, []byte(strings.Join(a.raw, "\n")+"\n"), 0o644)
			a.mu.Unlock()
			t.Logf("agent events: %s", name)
		}
	})
	return a
}

func (a *agent) send(cmd map[string]any) {
	a.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := a.in.Write(append(b, '\n')); err != nil {
		a.t.Fatalf("agent: %v", err)
	}
}

// snapshot returns the events so far.
func (a *agent) snapshot() []event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}

// waitFor returns the first event (from index `from` on) that matches, or fails the test.
func (a *agent) waitFor(what string, from int, timeout time.Duration, match func(event) bool) event {
	a.t.Helper()
	deadline := time.After(timeout)
	for {
		a.mu.Lock()
		for i := from; i < len(a.events); i++ {
			if match(a.events[i]) {
				e := a.events[i]
				a.mu.Unlock()
				return e
			}
		}
		from = len(a.events)
		wake := a.wake
		a.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			a.t.Fatalf("timeout after %s waiting for %s", timeout, what)
		}
	}
}

func (a *agent) mark() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.events)
}

// client opens a realtime-js client; subscribe* join channels and wait for SUBSCRIBED.
func (a *agent) client(id, url, host, token string) {
	a.send(map[string]any{"op": "client", "id": id, "url": url, "host": host, "token": token})
}

func (a *agent) subscribed(id, topic string, from int) event {
	a.t.Helper()
	e := a.waitFor(fmt.Sprintf("%s joined %s", id, topic), from, 30*time.Second, func(e event) bool {
		return e.Ev == "status" && e.ID == id && e.Topic == topic && e.Status != "CLOSED"
	})
	if e.Status != "SUBSCRIBED" {
		a.t.Fatalf("%s on %s: %s %s", id, topic, e.Status, e.Error)
	}
	return e
}

func (a *agent) subscribe(op, id, topic string, extra map[string]any) {
	a.t.Helper()
	m := a.mark()
	cmd := map[string]any{"op": op, "id": id, "topic": topic}
	for k, v := range extra {
		cmd[k] = v
	}
	a.send(cmd)
	a.subscribed(id, topic, m)
	if op == "changes" {
		e := a.waitFor(id+": Subscribed to PostgreSQL on "+topic, m, 30*time.Second, func(e event) bool {
			return e.Ev == "system" && e.ID == id && e.Topic == topic
		})
		if !isChangesReady(e) {
			a.t.Fatalf("%s on %s: system message %s %q", id, topic, e.Status, e.Message)
		}
	}
}

// isChangesReady: the system message that says the subscriber gets every later commit.
func isChangesReady(e event) bool {
	return e.Ev == "system" && e.Status == "ok" && strings.Contains(e.Message, "Subscribed to PostgreSQL")
}

// rows returns, per client id, the row ids delivered on topic with the time of delivery.
func (a *agent) rows(topic string) map[string]map[int64]time.Time {
	out := map[string]map[int64]time.Time{}
	for _, e := range a.snapshot() {
		if e.Ev == "change" && e.Topic == topic {
			if out[e.ID] == nil {
				out[e.ID] = map[int64]time.Time{}
			}
			if _, dup := out[e.ID][e.Row]; !dup {
				out[e.ID][e.Row] = e.at()
			}
		}
	}
	return out
}

// presenceKeys is the last presence sync each client saw on topic.
func (a *agent) presenceKeys(topic string) map[string][]string {
	out := map[string][]string{}
	for _, e := range a.snapshot() {
		if e.Ev == "presence" && e.Topic == topic {
			out[e.ID] = e.Keys
		}
	}
	return out
}
