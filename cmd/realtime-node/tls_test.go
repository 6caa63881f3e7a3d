package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeCert writes a self-signed CA-capable certificate as tls.crt, tls.key and ca.crt in dir.
func writeCert(t *testing.T, dir string) tlsFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "realtime-node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	f := tlsFiles{Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key")}
	for path, data := range map[string][]byte{f.Cert: certPEM, f.Key: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
		filepath.Join(dir, "ca.crt"): certPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestTLSListenerAndPeerVerification(t *testing.T) {
	files := writeCert(t, t.TempDir())
	l, err := listen("127.0.0.1:0", files)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	client, err := clientTLSConfig(files) // verifies against the sibling ca.crt
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", l.Addr().String(), client)
	if err != nil {
		t.Fatalf("verified TLS dial: %v", err)
	}
	conn.Close()
	// A peer whose certificate the CA did not sign is refused.
	other := writeCert(t, t.TempDir())
	foreign, err := clientTLSConfig(other)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tls.Dial("tcp", l.Addr().String(), foreign); err == nil {
		c.Close()
		t.Fatal("certificate from another CA accepted")
	}
	plain, err := listen("127.0.0.1:0", tlsFiles{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, ok := plain.(*net.TCPListener); !ok {
		t.Fatalf("without certificates the listener must be plain TCP, got %T", plain)
	}
}
