package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Status is the part of a node's GET /status the cluster tests read.
type Status struct {
	Sockets          int             `json:"sockets"`
	Users            map[string]int  `json:"users"`
	Peers            []StatusPeer    `json:"peers"`
	PresenceReplicas []StatusReplica `json:"presenceReplicas"`
	raw              json.RawMessage
}

// StatusPeer is one peer with an authenticated link.
type StatusPeer struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	Addr   string `json:"addr"`
	Epoch  int64  `json:"epoch"`
}

// StatusReplica is one remote presence replica.
type StatusReplica struct {
	Replica string `json:"replica"`
	Down    bool   `json:"down"`
	Entries int    `json:"entries"`
}

// PeerNames returns the sorted names of the linked peers.
func (s Status) PeerNames() []string {
	out := make([]string, 0, len(s.Peers))
	for _, p := range s.Peers {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// String is the raw JSON, for failure messages.
func (s Status) String() string { return string(s.raw) }

var httpClient = &http.Client{Timeout: 2 * time.Second}

// FetchStatus reads GET /status of n.
func (n *Node) FetchStatus(ctx context.Context) (Status, error) {
	var s Status
	body := &strings.Builder{}
	code, err := httpGet(ctx, "http://"+n.AdminAddr+"/status", body)
	if err != nil {
		return s, err
	}
	if code != http.StatusOK {
		return s, fmt.Errorf("GET /status of %s: status %d: %s", n.Spec.Name, code, body)
	}
	if err := json.Unmarshal([]byte(body.String()), &s); err != nil {
		return s, fmt.Errorf("decode /status of %s: %w", n.Spec.Name, err)
	}
	s.raw = json.RawMessage(body.String())
	return s, nil
}

// httpGet returns the status code and, when body is non-nil, copies the response body into it.
func httpGet(ctx context.Context, url string, body io.Writer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("request %s: %w", url, err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if body == nil {
		body = io.Discard
	}
	if _, err := io.Copy(body, resp.Body); err != nil {
		return 0, fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, nil
}

// Poll calls check every interval until it returns nil or timeout passes; it returns check's last
// error, so a timeout says what was still wrong (the NATS checkFor pattern, usable outside a
// test goroutine).
func Poll(timeout, interval time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %s: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}

// CheckFor is Poll that fails the test.
func CheckFor(t testing.TB, timeout, interval time.Duration, check func() error) {
	t.Helper()
	if err := Poll(timeout, interval, check); err != nil {
		t.Fatal(err)
	}
}

// MeshFormed checks that every node in nodes has a link to every other one and to nobody else.
func MeshFormed(nodes ...*Node) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, n := range nodes {
		var want []string
		for _, o := range nodes {
			if o != n {
				want = append(want, o.Spec.Name)
			}
		}
		slices.Sort(want)
		s, err := n.FetchStatus(ctx)
		if err != nil {
			return err
		}
		if got := s.PeerNames(); !slices.Equal(got, want) {
			return fmt.Errorf("node %s has peers %v, want %v", n.Spec.Name, got, want)
		}
	}
	return nil
}

// WaitMesh waits until MeshFormed holds.
func WaitMesh(timeout time.Duration, nodes ...*Node) error {
	return Poll(timeout, 100*time.Millisecond, func() error { return MeshFormed(nodes...) })
}
