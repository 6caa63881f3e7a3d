package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/pubsub"
)

// pollClient speaks the Phoenix LongPoll protocol with raw HTTP (phoenix/lib/phoenix/transports/
// long_poll.ex), for what the JS client does not send: V1 objects, bad bodies, stale tokens.
type pollClient struct {
	t     *testing.T
	base  string
	token string
}

type pollResp struct {
	Status   int      `json:"status"`
	Token    string   `json:"token"`
	Messages []string `json:"messages"`
	Error    string   `json:"error"`
}

func (c *pollClient) do(method, query, ctype, body string) (int, pollResp) {
	c.t.Helper()
	u := c.base + "?" + query
	if c.token != "" {
		u += "&token=" + url.QueryEscape(c.token)
	}
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r pollResp
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		c.t.Fatalf("%s %s: decode: %v", method, u, err)
	}
	return resp.StatusCode, r
}

// pollUntil polls until a message containing every substring arrives.
func (c *pollClient) pollUntil(subs ...string) string {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, r := c.do("GET", "", "", "")
		for _, m := range r.Messages {
			if containsAll(m, subs) {
				return m
			}
		}
	}
	c.t.Fatalf("no long-poll message with %q", subs)
	return ""
}

func (h *harness) pollClient(vsn string) *pollClient {
	c := &pollClient{t: h.t, base: h.url + "/socket/longpoll"}
	code, r := c.do("GET", "vsn="+vsn+"&apikey="+h.token(nil), "", "")
	if code != 200 || r.Status != 410 || r.Token == "" || r.Messages == nil {
		h.t.Fatalf("new session: HTTP %d %+v", code, r)
	}
	c.token = r.Token
	return c
}

func TestLongPollV1Session(t *testing.T) {
	h := newHarness(t)
	c := h.pollClient("1.0.0")
	code, r := c.do("POST", "", "application/json", `{"topic":"realtime:lp","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}`)
	if code != 200 || r.Status != 200 {
		t.Fatalf("post: HTTP %d %+v", code, r)
	}
	if m := c.pollUntil(`phx_reply`); m != `{"topic":"realtime:lp","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"1"}` {
		t.Fatalf("join reply %s", m)
	}
	ws := h.dial("1.0.0")
	ws.send(`{"topic":"realtime:lp","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}`)
	ws.expect(`phx_reply`)
	// Several messages in one ndjson batch are handled in order.
	c.do("POST", "", "application/x-ndjson", `{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}`+"\n"+
		`{"topic":"realtime:lp","event":"broadcast","payload":{"type":"broadcast","event":"e","payload":{"a":1}},"ref":"3","join_ref":"1"}`)
	ws.expect(`"event":"e"`, `"a":1`)
	c.pollUntil(`"ref":"2"`, `"ok"`)
}

func TestLongPollRefusalsAndStaleSessions(t *testing.T) {
	h := newHarness(t)
	c := &pollClient{t: t, base: h.url + "/socket/longpoll"}
	if _, r := c.do("GET", "vsn=2.0.0", "", ""); r.Status != 403 || r.Error != "API key is missing" {
		t.Fatalf("no apikey: %+v", r)
	}
	if _, r := c.do("GET", "vsn=3.0.0&apikey="+h.token(nil), "", ""); r.Status != 403 {
		t.Fatalf("bad vsn: %+v", r)
	}
	c.token = "no-such-session"
	if _, r := c.do("POST", "", "application/json", `[null,"1","phoenix","heartbeat",{}]`); r.Status != 410 {
		t.Fatalf("stale post: %+v", r)
	}
	// An unknown token on GET starts a new session (Phoenix: resume fails -> new_session).
	if _, r := c.do("GET", "vsn=2.0.0&apikey="+h.token(nil), "", ""); r.Status != 410 || r.Token == "" || r.Token == c.token {
		t.Fatalf("new session for a stale token: %+v", r)
	}
	s := h.pollClient("2.0.0")
	if code, r := s.do("POST", "", "application/x-ndjson", "[1]\nnot base64!"); code != 400 || r.Status != 400 || r.Error == "" {
		t.Fatalf("bad body: HTTP %d %+v", code, r)
	}
	// A session the node closes (tenant change) delivers what is queued, then answers 410.
	s.do("POST", "", "", `["1","1","realtime:lp","phx_join",{"config":{}}]`)
	s.pollUntil(`phx_reply`)
	h.srv.hub.disconnectTenant("dev")
	s.pollUntil(`Server requested disconnect`)
	if _, r := s.do("GET", "", "", ""); r.Status != 410 {
		t.Fatalf("poll after close: %+v", r)
	}
	if _, r := s.do("POST", "", "", `[null,"2","phoenix","heartbeat",{}]`); r.Status != 410 {
		t.Fatalf("post after close: %+v", r)
	}
}

// A join handled after its long-poll session ended (a POST racing the end) does not leave a
// channel behind: it is dropped at once.
func TestLongPollJoinAfterSessionEnd(t *testing.T) {
	h := newHarness(t)
	c := h.pollClient("2.0.0")
	ps := h.srv.polls.get(c.token)
	ps.sock.Close(1000, "test")
	deadline := time.Now().Add(5 * time.Second)
	for len(h.srv.hub.all()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("session not cleaned up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ps.sock.Dispatch([]byte(`["1","1","realtime:late","phx_join",{"config":{}}]`), false)
	if h.deps.Broker.HasSubscribers(pubsub.Topic("dev", "late", false)) || h.deps.Users.Local("dev") != 0 {
		t.Fatal("a channel joined after the session ended is still subscribed")
	}
}
