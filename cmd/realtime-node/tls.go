package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/realtimeops/realtime/node/nodeconfig"
)

// tlsFiles are the certificate and key the operator mounts from RealtimeCluster.spec.tls
// (TLS_CERT_FILE, TLS_KEY_FILE) and an optional CA for verifying other nodes (TLS_CA_FILE, or the
// ca.crt beside the certificate, as cert-manager writes it).
type tlsFiles = nodeconfig.TLSFiles

// serverConfig serves HTTPS/WSS and accepts inter-node links with the node certificate.
func serverTLSConfig(f tlsFiles) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: load %s: %w", f.Cert, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// clientConfig dials other nodes. With a CA the peer certificate is verified; without one the link
// is still encrypted and both ends prove the cluster secret inside it, but an active
// man-in-the-middle on the pod network is not excluded: mount a CA for that.
func clientTLSConfig(f tlsFiles) (*tls.Config, error) {
	cfg, err := serverTLSConfig(f)
	if err != nil {
		return nil, err
	}
	ca := f.CA
	if ca == "" {
		if _, err := os.Stat(siblingCA(f.Cert)); err == nil {
			ca = siblingCA(f.Cert)
		}
	}
	if ca == "" {
		cfg.InsecureSkipVerify = true
		return cfg, nil
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA %s: %w", ca, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: no certificate in %s", ca)
	}
	cfg.RootCAs = pool
	// Nodes dial each other by IP; verify the chain, not the host name.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("tls: peer sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: pool, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
	return cfg, nil
}

func siblingCA(cert string) string { return filepath.Join(filepath.Dir(cert), "ca.crt") }

// listen opens the public listener, with TLS when certificates are configured.
func listen(addr string, f tlsFiles) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if !f.Enabled() {
		return l, nil
	}
	cfg, err := serverTLSConfig(f)
	if err != nil {
		l.Close()
		return nil, err
	}
	return tls.NewListener(l, cfg), nil
}
