package conformance

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	CleanupBuild()
	os.Exit(code)
}

const (
	defaultSecret = "conformance-default-tenant-secret-0123456789"
	otherSecret   = "conformance-other-tenants-secret-9876543210"
	// reloadSecret is rotated by js/tenants.test.mjs by editing the tenants file.
	reloadSecret = "conformance-reloadable-tenant-secret-5555555555"
	// limitedPayloadKB makes the payload limit small enough to exceed cheaply (1 kB → 1,500 bytes).
	limitedPayloadKB = 1
)

// generous keeps the shared default tenant's rate limits out of the way: the whole suite runs
// against one node and the limiters average over 60 s (docs/protocol.md#limits).
var generous = map[string]int{
	"maxConcurrentUsers":         10000,
	"maxEventsPerSecond":         100000,
	"maxJoinsPerSecond":          10000,
	"maxPresenceEventsPerSecond": 100000,
}

func with(base map[string]int, extra map[string]int) map[string]int {
	m := map[string]int{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// suiteTenants are the tenants of the realtime-js suite; the JS side reaches the non-default ones
// with a Host header (first label = external id, docs/protocol.md#tenant-from-host).
func suiteTenants() []Tenant {
	return []Tenant{
		{ExternalID: "realtime-dev", JWTSecret: defaultSecret, Limits: generous},
		{ExternalID: "limited", JWTSecret: otherSecret, Limits: with(generous, map[string]int{
			"maxChannelsPerClient": 1, "maxPayloadSizeInKb": limitedPayloadKB})},
		{ExternalID: "one-user", JWTSecret: otherSecret, Limits: with(generous, map[string]int{"maxConcurrentUsers": 1})},
		{ExternalID: "rate-limited", JWTSecret: otherSecret, Limits: with(generous, map[string]int{"maxEventsPerSecond": 1})},
		{ExternalID: "join-limited", JWTSecret: otherSecret, Limits: with(generous, map[string]int{"maxJoinsPerSecond": 1})},
		{ExternalID: "reloadable", JWTSecret: reloadSecret, Limits: generous},
		{ExternalID: "suspended", JWTSecret: otherSecret, Suspend: true},
	}
}

// suiteEnv is the environment the JS scenarios read (js/lib/env.mjs).
func suiteEnv(n *Node, tenantsFile string) []string {
	def, other := []byte(defaultSecret), []byte(otherSecret)
	noRole := Claims(time.Hour)
	delete(noRole, "role")
	refreshed := Claims(2 * time.Hour)
	refreshed["sub"] = "refreshed"
	port := n.Addr[len("127.0.0.1:"):]
	host := func(id string) string { return id + ".localhost:" + port }
	return []string{
		"RT_HTTP_URL=" + n.HTTPURL,
		"RT_WS_URL=" + n.WSURL("/socket"),
		"RT_JWT_SECRET=" + defaultSecret,
		"RT_TOKEN=" + MustSign(def, Claims(time.Hour)),
		"RT_TOKEN_2=" + MustSign(def, refreshed),
		"RT_TOKEN_EXPIRED=" + MustSign(def, Claims(-time.Minute)),
		"RT_TOKEN_BAD_SIGNATURE=" + MustSign([]byte("not-the-tenant-secret"), Claims(time.Hour)),
		"RT_TOKEN_NO_ROLE=" + MustSign(def, noRole),
		"RT_TOKEN_OTHER=" + MustSign(other, Claims(time.Hour)),
		"RT_HOST_LIMITED=" + host("limited"),
		"RT_HOST_ONE_USER=" + host("one-user"),
		"RT_HOST_RATE_LIMITED=" + host("rate-limited"),
		"RT_HOST_JOIN_LIMITED=" + host("join-limited"),
		"RT_HOST_RELOADABLE=" + host("reloadable"),
		"RT_RELOADABLE_SECRET=" + reloadSecret,
		"RT_TENANTS_FILE=" + tenantsFile,
		"RT_HOST_SUSPENDED=" + host("suspended"),
		"RT_HOST_UNKNOWN=" + host("no-such-tenant"),
		"RT_LIMITED_PAYLOAD_KB=" + strconv.Itoa(limitedPayloadKB),
	}
}

// TestRealtimeJS runs every scenario file against one node. Each file is a subtest and each
// scenario inside it a nested subtest.
func TestRealtimeJS(t *testing.T) {
	tenants, err := WriteTenants(t.TempDir(), suiteTenants())
	if err != nil {
		t.Fatal(err)
	}
	node := StartNode(t, NodeOptions{TenantsFile: tenants, DefaultTenant: "realtime-dev", LogLevel: os.Getenv("RT_NODE_LOG_LEVEL")})
	env := suiteEnv(node, tenants)
	for _, file := range []string{
		"connect.test.mjs",
		"broadcast.test.mjs",
		"presence.test.mjs",
		"auth.test.mjs",
		"rest.test.mjs",
		"limits.test.mjs",
		"protocol.test.mjs",
		"tenants.test.mjs",
	} {
		t.Run(file, func(t *testing.T) { RunJS(t, file, env, 5*time.Minute) })
	}
}
