package clustertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Op is one action a JS scenario may ask the Go side for (kill a node, heal a partition, ...).
// It runs on an HTTP server goroutine, so it reports errors instead of failing the test.
type Op func(args map[string]string) (any, error)

// Control is the HTTP server a JS scenario calls (POST /<op> with a JSON object of string
// arguments; the answer is {"result": ...} or, with status 500, {"error": "..."}). Its URL is
// handed to the scenario as RT_CONTROL_URL.
type Control struct {
	URL string

	mu  sync.Mutex
	ops map[string]Op
	log []string
}

// StartControl serves ops on a free loopback port until the test ends.
func StartControl(t testing.TB, ops map[string]Op) *Control {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("control listen: %v", err)
	}
	c := &Control{URL: "http://" + ln.Addr().String(), ops: ops}
	srv := &http.Server{Handler: http.HandlerFunc(c.serve), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
		if t.Failed() {
			t.Logf("control operations:\n%s", c.History())
		}
	})
	return c
}

func (c *Control) serve(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path[1:]
	c.mu.Lock()
	op := c.ops[name]
	c.mu.Unlock()
	args := map[string]string{}
	if r.Body != nil {
		if err := json.NewDecoder(r.Body).Decode(&args); err != nil && !errors.Is(err, io.EOF) {
			reply(w, nil, fmt.Errorf("decode arguments of %s: %w", name, err))
			return
		}
	}
	start := time.Now()
	var (
		res any
		err error
	)
	if op == nil {
		err = fmt.Errorf("unknown control operation %q", name)
	} else {
		res, err = op(args)
	}
	c.record(fmt.Sprintf("%s %s %v -> %v (err %v, %s)", start.Format("15:04:05.000"), name, args, res, err,
		time.Since(start).Round(time.Millisecond)))
	reply(w, res, err)
}

func reply(w http.ResponseWriter, res any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"result": res})
}

func (c *Control) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, s)
}

// History lists the operations served so far.
func (c *Control) History() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := ""
	for _, s := range c.log {
		out += "  " + s + "\n"
	}
	return out
}
