package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/realtimeops/realtime/internal/testutil"
)

// TestMeshNamelessMembers: with DNS-style discovery (addresses only, own address included) both
// sides of each pair may dial; exactly one link per pair survives and stays up.
func TestMeshNamelessMembers(t *testing.T) {
	c := newTestCluster(t, []string{"eu", "eu", "us"}, Options{})
	var addrsOnly []Member
	for _, m := range c.members {
		addrsOnly = append(addrsOnly, Member{Addr: m.Addr})
	}
	regs := make([]*prometheus.Registry, len(c.meshes))
	for i, m := range c.meshes {
		regs[i] = prometheus.NewRegistry()
		c.meshes[i] = NewMesh(m.self, testSecret, NewStaticDiscovery(addrsOnly...), m.opts, testLogger(nil), regs[i])
	}
	c.start(t)
	time.Sleep(1500 * time.Millisecond) // a few reconcile rounds: no redial may disturb the links
	for i, m := range c.meshes {
		if len(m.Peers()) != 2 {
			t.Fatalf("%s peers %v", m.self.Name, m.Peers())
		}
		for _, p := range m.Peers() {
			if p.Region == "" {
				t.Errorf("%s: region of %s not learned in handshake", m.self.Name, p.Name)
			}
		}
		if r := metricValue(t, regs[i], "realtime_cluster_link_reconnects_total", ""); r != 0 {
			t.Errorf("%s: %v reconnects, want 0 (flapping duplicate links)", m.self.Name, r)
		}
	}
}

// TestMeshDropPolicyAndMetrics: a peer known from discovery but down queues up to QueueLen, then
// Send refuses at once (never blocks) and counts the drop; unknown peers are refused too.
func TestMeshDropPolicyAndMetrics(t *testing.T) {
	up, down := Member{Name: "a", Region: "eu", Epoch: 1}, Member{Name: "z", Region: "eu", Addr: listenAddrFree(t, "127.0.0.2"), Epoch: 1}
	ln := listenOn(t, "127.0.0.1")
	up.Addr = ln.Addr().String()
	reg := prometheus.NewRegistry()
	m := NewMesh(up, testSecret, NewStaticDiscovery(up, down), Options{Listener: ln, QueueLen: 4}, testLogger(nil), reg)
	startNode(t, m)
	testutil.Eventually(t, 5*time.Second, "peer state from discovery", func() bool { return m.peerOf("z") != nil })
	start := time.Now()
	var results []bool
	for i := 0; i < 6; i++ {
		results = append(results, m.Send("z", typeTest, []byte("x")))
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Send blocked for %s", took)
	}
	if fmt.Sprint(results) != "[true true true true false false]" {
		t.Fatalf("send results %v", results)
	}
	if m.Send("nobody", typeTest, nil) || m.Send("z", typePing, nil) {
		t.Fatal("send to unknown peer or reserved type accepted")
	}
	if v := metricValue(t, reg, "realtime_cluster_messages_dropped_total", "queue_full"); v != 2 {
		t.Errorf("queue_full drops = %v, want 2", v)
	}
	if v := metricValue(t, reg, "realtime_cluster_messages_dropped_total", "unknown_peer"); v != 1 {
		t.Errorf("unknown_peer drops = %v, want 1", v)
	}
	if v := metricValue(t, reg, "realtime_cluster_link_queue_depth", "z"); v != 4 {
		t.Errorf("queue depth = %v, want 4", v)
	}
	if v := metricValue(t, reg, "realtime_cluster_peers", ""); v != 0 {
		t.Errorf("peers = %v, want 0", v)
	}
}

// metricValue returns the value of the sample of name whose (only) label value is label.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			return value(m)
		}
	}
	return 0
}

func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// FuzzAcceptHandshake: whatever a stranger sends, the acceptor never admits it.
func FuzzAcceptHandshake(f *testing.F) {
	hello := append(append([]byte(handshakeMagic), make([]byte, nonceLen)...), `{"name":"x","addr":"y"}`...)
	f.Add(append(appendFrame(nil, typeHello, hello), appendFrame(nil, typeProof, make([]byte, 32))...))
	f.Add(appendFrame(nil, typeHello, []byte("RTC1")))
	f.Add([]byte(strings.Repeat("\x00", 10)))
	self := Member{Name: "self", Addr: "a"}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := acceptHandshake(io.Discard, bufio.NewReader(bytes.NewReader(b)), self, testSecret)
		if err == nil {
			t.Fatal("admitted a connection without the secret")
		}
	})
}
