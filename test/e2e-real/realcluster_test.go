//go:build e2ereal

package e2ereal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/realtimeops/realtime/test/conformance"
)

// TestRealCluster is one ordered story: what the quick start installed, clients through the
// Service and the pods, then the drills (each leaves the cluster whole for the next).
func TestRealCluster(t *testing.T) {
	e := loadEnv(t)
	c := kubeClient(t, e)
	t.Logf("pod logs: %s", recordPodLogs(t, e))
	if !t.Run("install", func(t *testing.T) { testInstall(t, e, c) }) {
		t.FailNow()
	}
	t.Run("broadcast-presence", func(t *testing.T) { testBroadcastPresence(t, e, c) })
	t.Run("postgres-changes", func(t *testing.T) { testPostgresChanges(t, e, c) })
	t.Run("private-channel", func(t *testing.T) { testPrivateChannel(t, e) })
	t.Run("rtt-placement", func(t *testing.T) { testRTTPlacement(t, e, c) })
	if only := os.Getenv("E2E_REAL_DRILLS"); only != "0" {
		t.Run("drills", func(t *testing.T) { testDrills(t, e, c, only) })
	}
}

// testInstall: the README quotes the quick start files the cluster was installed from; node pods
// are Ready in both regions; the mesh formed through DNS discovery; each tenant's WAL owner is in
// its database's region; `kubectl get realtimeclusters,tenants` shows what the README shows.
func testInstall(t *testing.T, e env, c client.Client) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"realtimecluster.yaml", "tenants.yaml", "tenant-database.sql"} {
		b, err := os.ReadFile(filepath.Join("../../docs/quickstart", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), strings.TrimSpace(string(b))) {
			t.Errorf("README does not quote docs/quickstart/%s verbatim", f)
		}
	}

	pods := allReady(t, c, 4, 3*time.Minute)
	regions := map[string][]string{}
	for _, p := range pods {
		regions[p.Labels[regionLabel]] = append(regions[p.Labels[regionLabel]], p.Name+"@"+p.Spec.NodeName)
	}
	t.Logf("node pods: %v", regions)
	if len(regions["eu-west"]) != 2 || len(regions["us-east"]) != 2 {
		t.Fatalf("want 2 Ready pods per region, got %v", regions)
	}

	// Every node links to the three others (discovery: the headless Service through CoreDNS).
	took := eventually(t, "mesh of 4 nodes", 90*time.Second, func() error {
		for _, p := range pods {
			s, err := statusOf(p)
			if err != nil {
				return err
			}
			var names []string
			for _, peer := range s.Peers {
				names = append(names, peer.Name+"/"+peer.Region)
			}
			if len(s.Peers) != 3 {
				return fmt.Errorf("%s sees peers %v", p.Name, names)
			}
		}
		return nil
	})
	t.Logf("mesh formed (checked %s after pods Ready)", took.Round(time.Millisecond))

	for _, te := range e.tenants {
		var got string
		eventually(t, te.name+" owner in "+te.region, 60*time.Second, func() error {
			got = owner(t, c, te.name)
			for _, p := range pods {
				if p.Name == got && p.Labels[regionLabel] == te.region {
					return nil
				}
			}
			return fmt.Errorf("owner %q", got)
		})
		t.Logf("tenant %s: database region %s, owner %s", te.name, te.region, got)
	}

	out := kubectl(t, e, "get", "realtimeclusters,tenants", "-n", ns)
	t.Logf("kubectl get realtimeclusters,tenants -n %s:\n%s", ns, out)
	for _, want := range []string{"realtimecluster.realtime.realtimeops.io/realtime", "tenant.realtime.realtimeops.io/eu-app",
		"tenant.realtime.realtimeops.io/us-app", "eu-west", "us-east", "True"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get output lacks %q", want)
		}
	}
	for _, col := range []string{"REGIONS", "READY", "OWNER", "DB REGION"} {
		if !strings.Contains(out, col) {
			t.Errorf("kubectl get output lacks column %s", col)
		}
	}
}

// testBroadcastPresence: clients on a pod of each region (directly) and one through the Service
// see each other's broadcasts and presence.
func testBroadcastPresence(t *testing.T, e env, c client.Client) {
	a := startAgent(t)
	te := e.tenants[0]
	urls := map[string]string{"eu": e.urlPod1, "us": e.urlPod2, "svc": e.url}
	ids := []string{"eu", "svc", "us"}
	for _, id := range ids {
		a.client(id, urls[id], te.host, te.token())
	}
	topic := fmt.Sprintf("room-%d", time.Now().UnixNano())
	for _, id := range ids {
		a.subscribe("broadcast", id, topic, nil)
	}
	for _, from := range ids {
		m := a.mark()
		a.send(map[string]any{"op": "send", "id": from, "topic": topic, "event": "hello", "payload": map[string]any{"from": from}})
		for _, to := range ids {
			if to == from {
				continue
			}
			a.waitFor(fmt.Sprintf("broadcast %s -> %s", from, to), m, 10*time.Second, func(ev event) bool {
				return ev.Ev == "broadcast" && ev.ID == to && ev.Topic == topic && strings.Contains(string(ev.Payload), `"`+from+`"`)
			})
		}
	}
	ptopic := topic + "-presence"
	start := time.Now()
	for _, id := range ids {
		a.subscribe("presence", id, ptopic, map[string]any{"key": id})
	}
	took := eventually(t, "presence converged on 3 clients", 30*time.Second, func() error {
		got := a.presenceKeys(ptopic)
		for _, id := range ids {
			if !slices.Equal(got[id], ids) {
				return fmt.Errorf("%s sees %v", id, got[id])
			}
		}
		return nil
	})
	t.Logf("broadcast across regions ok; presence of 3 clients converged %s after the first join (%s after the last)",
		time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))
}

// testPostgresChanges: for each tenant, a subscriber on every node pod (and one through the
// Service) receives every row inserted into the tenant's database.
func testPostgresChanges(t *testing.T, e env, c client.Client) {
	a := startAgent(t)
	pods := allReady(t, c, 4, time.Minute)
	for _, te := range e.tenants {
		conn := db(t, te.dbURL)
		setupRowsTable(t, conn)
		topic := "rows-" + te.name
		var subs []string
		for _, p := range pods {
			id := te.name + "@" + p.Name
			a.client(id, podURL(p), te.host, te.token())
			subs = append(subs, id)
		}
		a.client(te.name+"@svc", e.url, te.host, te.token())
		subs = append(subs, te.name+"@svc")
		for _, id := range subs {
			a.subscribe("changes", id, topic, map[string]any{"table": "e2e_rows"})
		}
		ids := insertRows(t, conn, 20, 0)
		t.Logf("%s: inserted rows %d..%d", te.name, ids[0], ids[len(ids)-1])
		eventually(t, te.name+": 20 rows on every subscriber", 30*time.Second, func() error {
			got := a.rows(topic)
			var bad []string
			for _, id := range subs {
				if missing := missingRows(ids, got[id]); len(missing) > 0 {
					bad = append(bad, fmt.Sprintf("%s misses %d rows %v", id, len(missing), missing))
				}
			}
			if len(bad) > 0 {
				return fmt.Errorf("%s", strings.Join(bad, "; "))
			}
			return nil
		})
		t.Logf("%s: 20 rows reached all %d subscribers (owner %s)", te.name, len(subs), owner(t, c, te.name))
		for _, id := range subs {
			a.send(map[string]any{"op": "close", "id": id})
		}
	}
}

// testPrivateChannel: with an RLS policy on realtime.messages, an authenticated client on a pod of
// each region joins a private channel the policy allows and broadcasts; a topic the policy does not
// allow is refused.
func testPrivateChannel(t *testing.T, e env) {
	te := e.tenants[0]
	conn := db(t, te.dbURL)
	exec1(t, conn, `drop policy if exists e2e_read on realtime.messages`)
	exec1(t, conn, `drop policy if exists e2e_write on realtime.messages`)
	exec1(t, conn, `create policy e2e_read on realtime.messages for select to authenticated using (realtime.topic() like 'e2e-allowed-%')`)
	exec1(t, conn, `create policy e2e_write on realtime.messages for insert to authenticated with check (realtime.topic() like 'e2e-allowed-%')`)
	claims := conformance.Claims(time.Hour)
	claims["role"] = "authenticated"
	token := conformance.MustSign(te.secret, claims)
	a := startAgent(t)
	a.client("eu", e.urlPod1, te.host, token)
	a.client("us", e.urlPod2, te.host, token)
	topic := fmt.Sprintf("e2e-allowed-%d", time.Now().UnixNano())
	a.subscribe("broadcast", "eu", topic, map[string]any{"private": true})
	a.subscribe("broadcast", "us", topic, map[string]any{"private": true})
	m := a.mark()
	a.send(map[string]any{"op": "send", "id": "eu", "topic": topic, "event": "secret", "payload": map[string]any{"from": "eu"}})
	a.waitFor("private broadcast eu -> us", m, 10*time.Second, func(ev event) bool {
		return ev.Ev == "broadcast" && ev.ID == "us" && ev.Topic == topic
	})
	denied := fmt.Sprintf("e2e-denied-%d", time.Now().UnixNano())
	m = a.mark()
	a.send(map[string]any{"op": "broadcast", "id": "us", "topic": denied, "private": true})
	ev := a.waitFor("join of a topic without policy", m, 15*time.Second, func(ev event) bool {
		return ev.Ev == "status" && ev.ID == "us" && ev.Topic == denied
	})
	if ev.Status == "SUBSCRIBED" {
		t.Fatalf("private join of %s without a policy: SUBSCRIBED", denied)
	}
	t.Logf("private channel: allowed topic broadcast eu -> us; topic without policy refused (%s %s)", ev.Status, ev.Error)
}
