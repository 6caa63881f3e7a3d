//go:build e2ereal

package e2ereal

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// A drill disrupts the WAL owner of tenant eu-app while rows are committed every 50 ms, with a
// Postgres Changes subscriber and a presence client on every node pod plus one through the
// Service. It asserts zero lost rows: every row committed while a subscriber was subscribed (from
// its "Subscribed to PostgreSQL" to its socket's close) reached it, unless the cluster had not
// delivered it anywhere yet when that socket closed (see report). It reports the longest gap in
// deliveries (time until changes flow again) and the time until presence converges on the
// clients still connected.
type drill struct {
	name    string
	prepare func(t *testing.T, e env, c client.Client) // before the clients connect
	act     func(t *testing.T, e env, c client.Client, owner corev1.Pod)
	settle  func(t *testing.T, e env, c client.Client, owner corev1.Pod)
	wait    time.Duration // how long to keep inserting after act
	moves   bool          // the owner must move to another pod (it may come back later: names are stable)
	// moved checks the move once the owner changed (moves only; t0: when act started).
	moved func(t *testing.T, e env, c client.Client, owner corev1.Pod, t0 time.Time)
	stays bool // the owner must not change until settle
}

// testDrills runs the drills named in only (comma-separated; "" or "all": every drill).
func testDrills(t *testing.T, e env, c client.Client, only string) {
	drills := []drill{
		{name: "delete-owner-pod", wait: 20 * time.Second, moves: true, act: func(t *testing.T, e env, c client.Client, p corev1.Pod) {
			if err := c.Delete(context.Background(), &p); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "drain-owner-node", wait: 20 * time.Second, moves: true, act: func(t *testing.T, e env, c client.Client, p corev1.Pod) {
			kubectl(t, e, "drain", p.Spec.NodeName, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s")
		}, settle: func(t *testing.T, e env, c client.Client, p corev1.Pod) {
			kubectl(t, e, "uncordon", p.Spec.NodeName)
		}},
		{name: "rolling-update", wait: 0, act: rollingUpdate},
		{name: "upgrade", prepare: func(t *testing.T, e env, c client.Client) {
			if e.prevVersion == "" {
				t.Fatal("E2E_PREV_IMAGE_VERSION is empty: `make e2e-real` builds the previous commit's images (make images-prev)")
			}
			upgradeTo(t, e, c, e.prevVersion)
		}, act: func(t *testing.T, e env, c client.Client, _ corev1.Pod) { upgradeTo(t, e, c, e.version) }},
		{name: "stop-owner-kubelet", wait: 75 * time.Second, act: func(t *testing.T, e env, c client.Client, p corev1.Pod) {
			signalKubelet(t, p.Spec.NodeName, syscall.SIGSTOP)
		}, settle: func(t *testing.T, e env, c client.Client, p corev1.Pod) {
			signalKubelet(t, p.Spec.NodeName, syscall.SIGCONT)
		}},
		// 100 ms more round trip on the owner's node: the other pod of its region measures 1 ms
		// and takes the work for LowerRTT after the hold (rtt_test.go).
		{name: "slower-owner-path", wait: 10 * time.Second, moves: true, act: slowerOwnerPath,
			moved: slowerOwnerPathMoved, settle: undoSlowerOwnerPath},
		// 2 ms more round trip on and off every 250 ms for 2.5 holds: the owner never moves.
		{name: "owner-path-flutter", wait: 12500 * time.Millisecond, stays: true, act: flutterOwnerPath,
			settle: stopFlutter},
	}
	te := e.tenants[0]
	conn := db(t, te.dbURL)
	setupRowsTable(t, conn)
	for _, d := range drills {
		if only != "" && only != "all" && !slices.Contains(strings.Split(only, ","), d.name) {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			if d.prepare != nil {
				d.prepare(t, e, c)
			}
			pods := allReady(t, c, 4, 3*time.Minute)
			ownerName := owner(t, c, te.name)
			var own corev1.Pod
			for _, p := range pods {
				if p.Name == ownerName {
					own = p
				}
			}
			if own.Name == "" {
				t.Fatalf("owner %q of %s is not a Ready pod", ownerName, te.name)
			}
			a := startAgent(t)
			topic, ptopic := "drill-"+d.name, "drill-presence-"+d.name
			var ids []string
			for _, p := range pods {
				ids = append(ids, p.Name)
				a.client(p.Name, podURL(p), te.host, te.token())
			}
			ids = append(ids, "svc")
			a.client("svc", e.url, te.host, te.token())
			for _, id := range ids {
				a.subscribe("changes", id, topic, map[string]any{"table": "e2e_rows"})
				a.subscribe("presence", id, ptopic, map[string]any{"key": id})
			}
			in := startInserter(t, conn, 50*time.Millisecond)
			time.Sleep(2 * time.Second)
			t0 := time.Now()
			d.act(t, e, c, own)
			tAct := time.Since(t0)
			newOwner := ""
			if d.moves {
				eventually(t, "owner moved", 90*time.Second, func() error {
					if newOwner = owner(t, c, te.name); newOwner == ownerName || newOwner == "" {
						return fmt.Errorf("owner still %q", newOwner)
					}
					return nil
				})
				if d.moved != nil {
					d.moved(t, e, c, own, t0)
				}
			}
			time.Sleep(d.wait)
			if now := owner(t, c, te.name); d.stays && now != ownerName {
				t.Errorf("%s: owner moved %s -> %s", d.name, ownerName, now)
			}
			rows := in.finish()
			time.Sleep(3 * time.Second) // deliveries in flight
			if d.settle != nil {
				d.settle(t, e, c, own)
			}
			report(t, d.name, a, topic, ptopic, ids, rows, t0, tAct, ownerName, owner(t, c, te.name))
			allReady(t, c, 4, 3*time.Minute)
		})
	}
}

// report checks zero lost rows per subscriber and logs the drill's timings.
//
// A row is owed to a subscriber when it was committed inside one of the subscriber's windows and
// the cluster delivered it to some subscriber at least inFlight before that window's socket
// closed. A row the stream had not read yet when the socket closed (the WAL work was moving while
// this pod drained) could not reach that socket and is reported as "in flight at close", not as
// lost, and so is a row delivered nowhere that was committed less than a second before the close
// (no other subscriber was left to show whether the stream had read it). A row delivered
// elsewhere while this socket was open but not here, or delivered nowhere at all, is lost.
func report(t *testing.T, name string, a *agent, topic, ptopic string, ids []string, rows []committed,
	t0 time.Time, tAct time.Duration, from, to string) {
	const inFlight = 250 * time.Millisecond
	events := a.snapshot()
	got := a.rows(topic)
	first := firstDeliveries(got)
	var all []time.Time
	lost, checked, late := 0, 0, 0
	for _, id := range ids {
		ws := subscribedWindows(events, id, topic)
		var missing []int64
		var firstAt, lastAt time.Duration
		n := 0
		for _, r := range rows {
			for _, w := range ws {
				if !r.at.After(w.from) || !r.at.Before(w.to) {
					continue
				}
				if d, ok := first[r.id]; w.closed && (ok && !d.Before(w.to.Add(-inFlight)) || !ok && r.at.After(w.to.Add(-time.Second))) {
					late++
					break
				}
				n++
				if _, ok := got[id][r.id]; !ok {
					if len(missing) == 0 {
						firstAt = r.at.Sub(t0)
					}
					lastAt = r.at.Sub(t0)
					missing = append(missing, r.id)
				}
				break
			}
		}
		for _, at := range got[id] {
			all = append(all, at)
		}
		lost += len(missing)
		checked += n
		t.Logf("%s: subscriber %s: %d rows owed, %d delivered of them, %d windows",
			name, id, n, n-len(missing), len(ws))
		if len(missing) > 0 {
			t.Errorf("%s: subscriber %s lost %d committed rows (ids %d..%d, committed %s..%s after the action)",
				name, id, len(missing), missing[0], missing[len(missing)-1], firstAt.Round(time.Millisecond), lastAt.Round(time.Millisecond))
		}
	}
	conv := presenceConverged(events, ptopic, ids, t0)
	t.Logf("DRILL %s: owner %s -> %s; action took %s; %d rows inserted, %d (row, subscriber) checks, %d lost, "+
		"%d in flight at a server close; longest delivery gap %s; presence converged %s after the action",
		name, from, to, tAct.Round(time.Millisecond), len(rows), checked, lost, late, longestGap(all, t0).Round(time.Millisecond), conv)
}

type window struct {
	from, to time.Time
	closed   bool
}

// subscribedWindows: from "Subscribed to PostgreSQL" to the socket's next close (or the end).
// A repeated "Subscribed to PostgreSQL" on the same socket (the owner moved) does not start a
// window; failed reconnects (a deleted pod's old IP) close again and again, and only the first
// close after a subscription ends its window.
func subscribedWindows(events []event, id, topic string) []window {
	var ws []window
	for _, ev := range events {
		switch {
		case ev.ID == id && ev.Topic == topic && isChangesReady(ev):
			if len(ws) == 0 || ws[len(ws)-1].closed {
				ws = append(ws, window{from: ev.at(), to: time.Now().Add(time.Hour)})
			}
		case ev.ID == id && ev.Ev == "transport" && ev.What == "close" && len(ws) > 0 && !ws[len(ws)-1].closed:
			ws[len(ws)-1].to, ws[len(ws)-1].closed = ev.at(), true
		}
	}
	return ws
}

// firstDeliveries: when each row first reached any subscriber.
func firstDeliveries(got map[string]map[int64]time.Time) map[int64]time.Time {
	first := map[int64]time.Time{}
	for _, rows := range got {
		for id, at := range rows {
			if f, ok := first[id]; !ok || at.Before(f) {
				first[id] = at
			}
		}
	}
	return first
}

// longestGap between consecutive deliveries from a second before t0 on.
func longestGap(all []time.Time, t0 time.Time) time.Duration {
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	var gap time.Duration
	for i := 1; i < len(all); i++ {
		if all[i].After(t0.Add(-time.Second)) && all[i].Sub(all[i-1]) > gap {
			gap = all[i].Sub(all[i-1])
		}
	}
	return gap
}

// presenceConverged: when every client whose socket is still open last saw exactly the set of
// those clients' keys (a dead pod's presences removed, reconnected ones back).
func presenceConverged(events []event, topic string, ids []string, t0 time.Time) string {
	open := map[string]bool{}
	for _, id := range ids {
		open[id] = true
	}
	for _, ev := range events {
		if ev.Ev == "transport" && ev.What != "error" {
			open[ev.ID] = ev.What == "open"
		}
	}
	var want []string
	for _, id := range ids {
		if open[id] {
			want = append(want, id)
		}
	}
	sort.Strings(want)
	wantS := strings.Join(want, ",")
	last := map[string]string{}
	var at time.Time
	for _, ev := range events {
		if ev.Ev != "presence" || ev.Topic != topic || !open[ev.ID] {
			continue
		}
		last[ev.ID] = strings.Join(ev.Keys, ",")
		ok := true
		for _, id := range want {
			ok = ok && last[id] == wantS
		}
		if ok && at.IsZero() && ev.at().After(t0) {
			at = ev.at()
		} else if !ok {
			at = time.Time{}
		}
	}
	if at.IsZero() {
		return "never (or no change was needed)"
	}
	return at.Sub(t0).Round(time.Millisecond).String()
}

// rollingUpdate changes a pod-template annotation, as a node image update would, and waits until
// every pod runs the new template.
func rollingUpdate(t *testing.T, e env, c client.Client, _ corev1.Pod) {
	var rc realtimev1.RealtimeCluster
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: clusterName}, &rc); err != nil {
		t.Fatal(err)
	}
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	patch := client.MergeFrom(rc.DeepCopy())
	if rc.Spec.PodTemplate.Annotations == nil {
		rc.Spec.PodTemplate.Annotations = map[string]string{}
	}
	rc.Spec.PodTemplate.Annotations["e2e.realtimeops.io/rollout"] = stamp
	if err := c.Patch(context.Background(), &rc, patch); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, "rollout of 4 pods", 5*time.Minute, func() error {
		pods := nodePods(t, c)
		n := 0
		for _, p := range pods {
			if p.Annotations["e2e.realtimeops.io/rollout"] == stamp && podReady(p) {
				n++
			}
		}
		if n != 4 {
			return fmt.Errorf("%d of 4 pods updated and Ready", n)
		}
		return nil
	})
	t.Logf("rolling update of 4 pods done in %s", took.Round(time.Millisecond))
}

// signalKubelet stops or continues the kubelet of a node (PIDs recorded by hack/real-cluster.sh).
func signalKubelet(t *testing.T, node string, sig syscall.Signal) {
	n := map[string]string{"node-eu-west-1": "n1", "node-eu-west-2": "n2", "node-us-east-1": "n3", "node-us-east-2": "n4"}[node]
	b, err := os.ReadFile(os.Getenv("E2E_WORKDIR") + "/pids")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "kubelet-"+n {
			pid, _ := strconv.Atoi(f[1])
			if err := syscall.Kill(pid, sig); err != nil {
				t.Fatalf("signal kubelet %s: %v", node, err)
			}
			t.Logf("kubelet of %s (pid %d): %v", node, pid, sig)
			return
		}
	}
	t.Fatalf("no kubelet recorded for %s", node)
}

// upgradeTo upgrades the operator's release to the images tagged version (operator and node
// image), as a platform team upgrades, and waits until every node pod runs it and is Ready.
func upgradeTo(t *testing.T, e env, c client.Client, version string) {
	home := t.TempDir()
	cmd := exec.Command(e.helm, "upgrade", "realtime-operator", e.chart, "--namespace", "realtime-system", "--reuse-values",
		"--set", "image.tag="+version, "--set", "nodeImage.tag="+version, "--wait", "--timeout", "5m")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig, "HELM_CACHE_HOME="+home+"/cache",
		"HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm upgrade to %s: %v\n%s", version, err, out)
	}
	took := eventually(t, "every node pod on "+version, 5*time.Minute, func() error {
		n := 0
		for _, p := range nodePods(t, c) {
			if strings.HasSuffix(p.Spec.Containers[0].Image, ":"+version) && podReady(p) && p.DeletionTimestamp == nil {
				n++
			}
		}
		if n != 4 {
			return fmt.Errorf("%d of 4 node pods on %s and Ready", n, version)
		}
		return nil
	})
	t.Logf("helm upgrade to %s: node pods rolled in %s", version, took.Round(time.Millisecond))
}
