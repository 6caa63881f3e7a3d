package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/testutil"
)

// testTLS returns mutual-TLS configs from one self-signed certificate for "realtime-cluster".
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "realtime-cluster"},
		DNSNames: []string{"realtime-cluster"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS13}
	client = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "realtime-cluster", MinVersion: tls.VersionTLS13}
	return server, client
}

// TestMeshTLS: links run over mutual TLS when configured; a plain-TCP node cannot join.
func TestMeshTLS(t *testing.T) {
	srv, cli := testTLS(t)
	c := newTestCluster(t, []string{"eu", "us"}, Options{ServerTLS: srv, ClientTLS: cli})
	rec := newRecorder()
	c.meshes[1].Handle(typeTest, rec.handle)
	c.start(t)
	for i := uint64(0); i < 10; i++ {
		c.meshes[0].Send("node2", typeTest, seqPayload(i, 32))
	}
	testutil.Eventually(t, 5*time.Second, "messages over TLS", func() bool { return rec.count("node1") == 10 })
	rec.check(t)

	// A node with the secret but without TLS is refused at the TLS layer.
	plain := Member{Name: "node0", Region: "eu", Addr: listenAddrFree(t, "127.0.0.3"), Epoch: 1}
	m := NewMesh(plain, testSecret, NewStaticDiscovery(plain, c.members[1]), Options{}, testLogger(nil), nil)
	startNode(t, m)
	time.Sleep(300 * time.Millisecond)
	if len(m.Peers()) != 0 || len(c.meshes[1].Peers()) != 1 {
		t.Fatalf("plain node linked: %v / %v", m.Peers(), c.meshes[1].Peers())
	}
}

func listenAddrFree(t *testing.T, ip string) string {
	ln := listenOn(t, ip)
	defer ln.Close()
	return ln.Addr().String()
}
