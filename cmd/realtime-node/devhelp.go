package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/realtimeops/realtime/node/auth"
)

// printDevHelp tells a newcomer how to connect to the dev tenant: URL, a token, a snippet.
func printDevHelp(n *node, cfg config, addr net.Addr) {
	t, ok := n.tenants.Get(cfg.DefaultTenant)
	if !ok {
		fmt.Fprintln(os.Stderr, errNoTenant, cfg.DefaultTenant)
		return
	}
	port := addr.(*net.TCPAddr).Port
	token, err := auth.SignHS256(t.JWTSecret, map[string]any{
		"role": "anon", "iss": "realtime-dev", "exp": time.Now().Add(30 * 24 * time.Hour).Unix(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sign dev token:", err)
		return
	}
	fmt.Printf(`
Realtime node ready (dev tenant %q).
  WebSocket: ws://localhost:%d/socket/websocket
  REST:      http://localhost:%d/api/broadcast
  Metrics:   http://%s/metrics (admin listener, --admin-addr)
  Inspector: %s
  Dev JWT (role anon, 30 days, dev secret only):
    %s

  realtime-js:
    import { RealtimeClient } from '@supabase/realtime-js'
    const client = new RealtimeClient('ws://localhost:%d/socket', { params: { apikey: '%s' } })
    client.channel('room1').on('broadcast', { event: '*' }, (m) => console.log(m)).subscribe()

  REST broadcast:
    curl -X POST http://localhost:%d/api/broadcast -H 'apikey: %s' -H 'content-type: application/json' \
      -d '{"messages":[{"topic":"room1","event":"hello","payload":{"text":"hi"}}]}'

`, t.ExternalID, port, port, adminHint(cfg.AdminAddr), inspectorHint(cfg.Inspector, port), token, port, token, port, token)
}

func adminHint(addr string) string {
	if addr == "" {
		return "<off>"
	}
	if h, p, err := net.SplitHostPort(addr); err == nil && (h == "" || h == "0.0.0.0") {
		return "localhost:" + p
	}
	return addr
}

func inspectorHint(on bool, port int) string {
	if !on {
		return "<off> (--inspector)"
	}
	return fmt.Sprintf("http://localhost:%d/inspector (paste the dev JWT)", port)
}
