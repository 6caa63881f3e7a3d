package clustertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/realtimeops/realtime/node/cluster"
	"github.com/realtimeops/realtime/node/pubsub"
	"github.com/realtimeops/realtime/test/conformance"
)

// TestForgedLinkFramesAreRefused plays an attacker without the cluster secret who can reach a
// node's cluster port: a broadcast frame sent without a handshake, and one sent after a hello
// that impersonates node-2 with a made-up proof, must both get the connection closed and must
// reach no client. The frames are built by hand from the documented link format (frame.go,
// envelope.go, handshake.go).
func TestForgedLinkFramesAreRefused(t *testing.T) {
	c := startStaticCluster(t, WriteTenants(t), threeNodes, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok := conformance.MustSign([]byte(JWTSecret), conformance.Claims(time.Hour))
	rx1 := joinOrFatal(ctx, t, c.Nodes["n1"], tok, "inject")
	defer rx1.Close()
	rx3 := joinOrFatal(ctx, t, c.Nodes["n3"], tok, "inject")
	defer rx3.Close()

	evil := forgedBroadcast("evil")
	t.Run("no handshake", func(t *testing.T) {
		conn := dialRaw(t, c.Nodes["n1"].ClusterAddr)
		writeRaw(t, conn, cluster.TypeBroadcast, evil)
		expectClosed(t, conn)
	})
	t.Run("hello as node-2 with a made-up proof", func(t *testing.T) {
		conn := dialRaw(t, c.Nodes["n1"].ClusterAddr)
		me, _ := json.Marshal(map[string]any{"name": "node-2", "region": "eu", "addr": c.Nodes["n2"].ClusterAddr, "epoch": 1})
		nonce := make([]byte, 32)
		_, _ = rand.Read(nonce)
		writeRaw(t, conn, 2, append(append([]byte("RTC1"), nonce...), me...)) // hello
		typ, _ := readRaw(t, conn)                                            // challenge
		if typ != 3 {
			t.Fatalf("expected a challenge frame (type 3), got %d", typ)
		}
		writeRaw(t, conn, 4, make([]byte, 32)) // proof: zeros, not an HMAC with the secret
		writeRaw(t, conn, cluster.TypeBroadcast, evil)
		expectClosed(t, conn)
	})

	// Positive control: a real broadcast from node-2 arrives, and it is the only one.
	tx := joinOrFatal(ctx, t, c.Nodes["n2"], tok, "inject")
	defer tx.Close()
	if err := tx.Send(ctx, "legit", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	for name, rx := range map[string]*WSClient{"node-1": rx1, "node-3": rx3} {
		m, err := rx.Next(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Event != "legit" {
			t.Errorf("%s delivered a forged broadcast %q %s", name, m.Event, m.Payload)
		}
	}
	// The log line may be written (and piped to us) just after the node hung up.
	CheckFor(t, 3*time.Second, 50*time.Millisecond, func() error {
		if !logHas(c.Nodes["n1"].Logs(), "refused cluster link: peer failed authentication") {
			return errors.New("node-1 did not log the refused links")
		}
		return nil
	})
}

// forgedBroadcast is a Bus envelope (hop "forward-to-region", so a relay would pass it on)
// around a pub/sub message for the default tenant's topic "inject".
func forgedBroadcast(event string) []byte {
	m := &pubsub.Message{
		Topic: pubsub.Topic(DefaultTenant, "inject", false), WireTopic: "realtime:inject", Event: "broadcast",
		Payload: json.RawMessage(`{"type":"broadcast","event":"` + event + `","payload":{}}`),
	}
	key := m.Topic
	b := []byte{byte(cluster.HopRegion)}
	b = binary.AppendUvarint(b, uint64(len("node-2")))
	b = append(b, "node-2"...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return m.AppendWire(b)
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func writeRaw(t *testing.T, conn net.Conn, typ byte, payload []byte) {
	t.Helper()
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)+1))
	b = append(append(b, typ), payload...)
	_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write(b); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Logf("write frame %d: %v (the node may already have hung up)", typ, err)
	}
}

func readRaw(t *testing.T, conn net.Conn) (byte, []byte) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(conn)
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("read frame header: %v", err)
	}
	p := make([]byte, binary.BigEndian.Uint32(hdr[:4])-1)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return hdr[4], p
}

// expectClosed waits for the node to hang up (EOF or reset) without sending anything more.
func expectClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	b := make([]byte, 64)
	n, err := conn.Read(b)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the node kept the unauthenticated connection open")
	}
	if n > 0 {
		t.Fatalf("the node answered an unauthenticated peer with %d bytes: %x", n, b[:n])
	}
}
