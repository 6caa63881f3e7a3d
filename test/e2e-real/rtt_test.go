//go:build e2ereal

package e2ereal

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// Placement by measured round-trip time on the real cluster (docs/cluster.md, "Placement by
// measured round-trip time"): the latency between the regions is real (hack/real-cluster-latency.sh:
// eu-west <-> us-east 40 ms round trip, 1 ms inside a region), every node pod probes every tenant
// database (RTT_INTERVAL 1 s, RTT_HOLD 5 s here), publishes its settled figures in its RTT Lease,
// and the operator places from those Leases.

const rttTenant = "rtt-app"

// testRTTPlacement: a tenant whose database (app_rtt, behind postgres-us) carries no region is
// placed on a us-east pod by measurement alone; its status shows the RTT table per region and
// `kubectl get tenants` the owner's RTT.
func testRTTPlacement(t *testing.T, e env, c client.Client) {
	doc := fmt.Sprintf(`apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  clusterRef: {name: %[3]s}
  jwt:
    secretRef: {name: %[1]s-jwt, key: secret}
  database:
    host: postgres-us.databases.svc.cluster.local
    name: app_rtt
    user: realtime_admin
    passwordSecretRef: {name: %[1]s-db, key: password}
---
apiVersion: v1
kind: Secret
metadata: {name: %[1]s-jwt, namespace: %[2]s}
stringData: {secret: %[1]s-jwt-secret-with-at-least-32-characters}
---
apiVersion: v1
kind: Secret
metadata: {name: %[1]s-db, namespace: %[2]s}
stringData: {password: change-me}
`, rttTenant, ns, clusterName)
	f := filepath.Join(t.TempDir(), "rtt-tenant.yaml")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	kubectl(t, e, "apply", "-f", f)
	t.Cleanup(func() { kubectl(t, e, "delete", "-f", f, "--wait=false") }) // the slot drop runs meanwhile

	regionOf := map[string]string{}
	for _, p := range nodePods(t, c) {
		regionOf[p.Name] = p.Labels[regionLabel]
	}
	var st *realtimev1.ReplicationStatus
	took := eventually(t, rttTenant+" placed with an RTT table of both regions", 90*time.Second, func() error {
		st = tenant(t, c, rttTenant).Status.Replication
		if st == nil || st.Node == "" || st.RTT == "" || len(st.RTTByRegion) != 2 {
			return fmt.Errorf("replication status %+v", st)
		}
		return nil
	})
	t.Logf("%s: owner %s (%s), reason %s, RTT %s, table %+v (%s after apply)", rttTenant, st.Node,
		regionOf[st.Node], st.Reason, st.RTT, st.RTTByRegion, took.Round(time.Millisecond))
	if regionOf[st.Node] != "us-east" {
		t.Errorf("owner %s is in %q: want us-east, the region of the lowest measured RTT", st.Node, regionOf[st.Node])
	}
	if st.Reason != "LowestRTT" && st.Reason != realtimev1.MoveLowerRTT {
		t.Errorf("reason %q: want LowestRTT (or LowerRTT after a move), an unlabelled database is placed by RTT", st.Reason)
	}
	byRegion := map[string]float64{}
	for _, row := range st.RTTByRegion {
		byRegion[row.Region] = parseMs(t, row.RTT)
	}
	// The configured 40 ms between the regions against 1 ms inside one: the figures are measured.
	// Half of the gap as the bound: under load every figure grows by 5-20 ms (DNS lookups, timer
	// slack, CPU wait), and without the delay line the gap is ~0 (eu-west 16, us-east 22 ms).
	if byRegion["eu-west"]-byRegion["us-east"] < 15 {
		t.Errorf("RTT table %v: want eu-west at least 15 ms above us-east", byRegion)
	}

	eventually(t, "kubectl get tenants shows the owner's RTT", 15*time.Second, func() error {
		out := kubectl(t, e, "get", "tenants", "-n", ns)
		want := tenant(t, c, rttTenant).Status.Replication.RTT
		lines := strings.Split(out, "\n")
		if !strings.Contains(lines[0], "RTT") {
			return fmt.Errorf("no RTT column:\n%s", out)
		}
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == rttTenant && want != "" && slices.Contains(f, want) {
				t.Logf("kubectl get tenants -n %s:\n%s", ns, out)
				return nil
			}
		}
		return fmt.Errorf("row of %s lacks RTT %q:\n%s", rttTenant, want, out)
	})
}

// parseMs reads a status figure such as "0.9ms" or "41ms".
func parseMs(t *testing.T, s string) float64 {
	t.Helper()
	ms, err := strconv.ParseFloat(strings.TrimSuffix(s, "ms"), 64)
	if err != nil {
		t.Fatalf("RTT figure %q: %v", s, err)
	}
	return ms
}

// slowerOwnerPath is the act of the drill "slower-owner-path": 100 ms more round trip on every
// path of the owner's node (50 ms each way on its pod network, 10.251.N.0/24).
func slowerOwnerPath(t *testing.T, e env, _ client.Client, p corev1.Pod) {
	setExtraDelay(t, e, podNet(t, p), 50*time.Millisecond)
}

// slowerOwnerPathMoved checks the move: for LowerRTT, and not before the nodes' hold (a published
// figure follows a change only after it held RTT_HOLD; lastMove.at has whole seconds).
func slowerOwnerPathMoved(t *testing.T, e env, c client.Client, from corev1.Pod, t0 time.Time) {
	st := tenant(t, c, e.tenants[0].name).Status.Replication
	if st == nil || st.LastMove == nil || st.LastMove.Reason != realtimev1.MoveLowerRTT ||
		!strings.HasPrefix(st.LastMove.Message, "LowerRTT from") {
		t.Fatalf("last move %+v: want reason %s, message LowerRTT from X ms to Y ms", st.LastMove, realtimev1.MoveLowerRTT)
	}
	after := st.LastMove.At.Add(time.Second).Sub(t0)
	t.Logf("slower-owner-path: %s -> %s (%s) at most %s after the delay was added (hold %s): %s",
		st.LastMove.From, st.LastMove.To, st.Region, after.Round(time.Millisecond), e.rttHold, st.LastMove.Message)
	if st.LastMove.From != from.Name {
		t.Errorf("last move from %q, want the slowed owner %s", st.LastMove.From, from.Name)
	}
	if after < e.rttHold {
		t.Errorf("moved %s after the delay was added: before the %s hold", after, e.rttHold)
	}
}

func undoSlowerOwnerPath(t *testing.T, e env, _ client.Client, p corev1.Pod) {
	setExtraDelay(t, e, podNet(t, p), 0)
}

// flutter is the running owner-path-flutter (one drill at a time).
var flutter struct {
	stop chan struct{}
	done chan struct{}
}

// flutterOwnerPath toggles 1 ms extra each way (2 ms round trip) on the owner's node network every
// 250 ms until stopFlutter: noise the settled figures and placement's gain rule must ignore.
func flutterOwnerPath(t *testing.T, e env, _ client.Client, p corev1.Pod) {
	cidr := podNet(t, p)
	flutter.stop, flutter.done = make(chan struct{}), make(chan struct{})
	go func() { // owned: ends at stopFlutter
		defer close(flutter.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		on := false
		for {
			select {
			case <-flutter.stop:
				return
			case <-tick.C:
			}
			on = !on
			d := time.Duration(0)
			if on {
				d = time.Millisecond
			}
			if err := putExtraDelay(e, cidr, d); err != nil {
				t.Errorf("flutter: %v", err)
				return
			}
		}
	}()
}

func stopFlutter(t *testing.T, e env, _ client.Client, p corev1.Pod) {
	close(flutter.stop)
	<-flutter.done
	setExtraDelay(t, e, podNet(t, p), 0)
}

// podNet is the pod network of p's node (hack/real-cluster-node.sh: node N has 10.251.N.0/24).
func podNet(t *testing.T, p corev1.Pod) string {
	t.Helper()
	ip := net.ParseIP(p.Status.PodIP).To4()
	if ip == nil || ip[0] != 10 || ip[1] != 251 {
		t.Fatalf("pod %s has IP %q, not in 10.251.0.0/16", p.Name, p.Status.PodIP)
	}
	return fmt.Sprintf("10.251.%d.0/24", ip[2])
}

// setExtraDelay sets the delay line's extra one-way delay on network cidr (hack/delayline).
func setExtraDelay(t *testing.T, e env, cidr string, d time.Duration) {
	t.Helper()
	if err := putExtraDelay(e, cidr, d); err != nil {
		t.Fatal(err)
	}
	t.Logf("delay line: %s extra one way on %s", d, cidr)
}

func putExtraDelay(e env, cidr string, d time.Duration) error {
	hc := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", e.delaySock)
		}}}
	u := "http://delayline/extra?" + url.Values{"net": {cidr}, "delay": {d.String()}}.Encode()
	req, err := http.NewRequest(http.MethodPut, u, nil)
	if err != nil {
		return fmt.Errorf("delay line request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("delay line: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("delay line: PUT %s: %s", u, resp.Status)
	}
	return nil
}
