package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/auth"
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/limiter"
	"github.com/realtimeops/realtime/node/presence"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/node/socket"
	"github.com/realtimeops/realtime/node/tenant"
)

const testSecret = "test-secret-for-the-server-package-0123456789"

const tenantsYAML = `apiVersion: v1
kind: Secret
metadata: {name: jwt}
stringData: {secret: %s}
---
apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: dev}
spec:
  jwt: {secretRef: {name: jwt, key: secret}}
  limits: {maxChannelsPerClient: 3, maxPayloadSizeInKb: 1}
`

type harness struct {
	t           *testing.T
	tenants     *tenant.FileSource
	tenantsPath string
	url         string
	srv         *Server
	deps        *channel.Deps
	reg         *prometheus.Registry
	secret      []byte
}

func newHarness(t *testing.T) *harness {
	return newHarnessWith(t, fmt.Sprintf(tenantsYAML, testSecret), nil)
}

// newHarnessWith starts a node for the given tenants file; wire (optional) adds services to deps.
func newHarnessWith(t *testing.T, yaml string, wire func(*channel.Deps)) *harness {
	t.Helper()
	return newHarnessOpts(t, harnessOpts{yaml: yaml, wire: wire})
}

// harnessOpts: log (nil: discarded) is the node's logger; sock adjusts the socket options.
type harnessOpts struct {
	yaml string
	wire func(*channel.Deps)
	log  *slog.Logger
	sock func(*socket.Options)
}

func newHarnessOpts(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	yaml, wire := o.yaml, o.wire
	dir := t.TempDir()
	path := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	log := o.log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tenants, err := tenant.NewFileSource(path, log)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	broker := pubsub.NewBroker(nil)
	deps := &channel.Deps{
		Tenants: tenants, Broker: broker, Rates: limiter.NewTenants(func(string) (int, int, int) { return 100, 100, 1000 }),
		Users: channel.NewUsers(nil), Metrics: channel.NewMetrics(reg), Log: log,
		Presence: presence.NewLocal(presence.ReplicaID{Node: "test", Epoch: 1}, channel.PresenceRelay(broker, log)),
	}
	if wire != nil {
		wire(deps)
	}
	sockOpts := socket.Options{MaxFrameBytes: 5_000_000, IdleTimeout: time.Minute, QueueFrames: 1024, QueueBytes: 8 << 20,
		WriteTimeout: 5 * time.Second, ErrorBackoff: 10 * time.Millisecond, Metrics: socket.NewMetrics(reg), Log: log}
	if o.sock != nil {
		o.sock(&sockOpts)
	}
	srv := New(deps, Options{DefaultTenant: "dev", ConnectBackoff: 10 * time.Millisecond, Gatherer: reg, Log: log, Socket: sockOpts})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &harness{t: t, tenants: tenants, tenantsPath: path, url: ts.URL, srv: srv, deps: deps, reg: reg, secret: []byte(testSecret)}
}

func (h *harness) token(claims map[string]any) string {
	h.t.Helper()
	if claims == nil {
		claims = map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()}
	}
	tok, err := auth.SignHS256(h.secret, claims)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

type client struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan frame
	// closed receives the read error that ended the connection.
	closed chan error
}

type frame struct {
	data   string
	binary bool
}

func (h *harness) dial(vsn string) *client { return h.dialOpt(vsn, true) }

// dialQuery dials with extra query parameters (e.g. "&log_level=info").
func (h *harness) dialQuery(vsn, query string) *client {
	h.t.Helper()
	return h.dialURL(strings.Replace(h.url, "http", "ws", 1)+"/socket/websocket?vsn="+vsn+"&apikey="+h.token(nil)+query, true)
}

// dialOpt dials; with read false nothing reads the connection (a consumer that never keeps up).
func (h *harness) dialOpt(vsn string, read bool) *client {
	h.t.Helper()
	return h.dialURL(strings.Replace(h.url, "http", "ws", 1)+"/socket/websocket?vsn="+vsn+"&apikey="+h.token(nil), read)
}

func (h *harness) dialURL(u string, read bool) *client {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(10 << 20)
	h.t.Cleanup(func() { _ = ws.CloseNow() })
	c := &client{t: h.t, ws: ws, frames: make(chan frame, 1<<16), closed: make(chan error, 1)}
	if !read {
		return c
	}
	// Reading with a cancelled context closes a coder/websocket connection, so one goroutine reads
	// for the test's lifetime and the assertions wait on the channel.
	go func() {
		for {
			typ, data, err := ws.Read(context.Background())
			if err != nil {
				c.closed <- err
				close(c.frames)
				return
			}
			c.frames <- frame{string(data), typ == websocket.MessageBinary}
		}
	}()
	return c
}

func (c *client) send(frame string) {
	c.t.Helper()
	if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) sendBinary(frame []byte) {
	c.t.Helper()
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next frame (text, or binary as raw bytes).
func (c *client) next() (string, bool) {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatal("connection closed")
		}
		return f.data, f.binary
	case <-time.After(5 * time.Second):
		c.t.Fatal("no frame within 5s")
	}
	return "", false
}

// waitClosed waits for the server to close the connection and returns the read error.
func (c *client) waitClosed(d time.Duration) error {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return <-c.closed
			}
		case <-deadline:
			c.t.Fatal("connection still open")
		}
	}
}

// expect reads frames until one contains every substring, failing after 5 s.
func (c *client) expect(subs ...string) string {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f, _ := c.next()
		if containsAll(f, subs) {
			return f
		}
	}
	c.t.Fatalf("no frame with %q", subs)
	return ""
}

// expectAll reads frames until, for every group, one frame contained all of its substrings.
func (c *client) expectAll(groups ...[]string) {
	c.t.Helper()
	seen := make([]bool, len(groups))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f, _ := c.next()
		done := true
		for i, g := range groups {
			seen[i] = seen[i] || containsAll(f, g)
			done = done && seen[i]
		}
		if done {
			return
		}
	}
	c.t.Fatalf("frames not all seen: %v (seen %v)", groups, seen)
}

// expectNone asserts that no frame containing sub arrives within d.
func (c *client) expectNone(sub string, d time.Duration) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return
			}
			if strings.Contains(f.data, sub) {
				c.t.Fatalf("unexpected frame %s", f.data)
			}
		case <-deadline:
			return
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
