package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// benchTenant is the tenant of a spawned node: limits far above anything the scenarios produce,
// so the figures measure the node, not its rate limiters (docs/protocol.md#limits defaults would refuse the
// 10,000-socket scenario at 200 users).
const benchTenant = "bench"

func tenantsYAML(secret string) string {
	return fmt.Sprintf(`apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata:
  name: %[1]s
spec:
  clusterRef: {name: bench}
  externalId: %[1]s
  jwt:
    secretRef: {name: %[1]s-jwt, key: secret}
  limits:
    maxConcurrentUsers: 1000000
    maxEventsPerSecond: 1000000000
    maxJoinsPerSecond: 1000000
    maxChannelsPerClient: 10000
    maxBytesPerSecond: 1000000000
    maxPresenceEventsPerSecond: 1000000000
---
apiVersion: v1
kind: Secret
metadata:
  name: %[1]s-jwt
stringData:
  secret: %[2]q
`, benchTenant, secret)
}

// spawned is a node process started by the bench.
type spawned struct {
	cmd       *exec.Cmd
	addr      string
	adminAddr string
	debugAddr string
	dir       string
	done      chan struct{}
}

// spawnNode starts bin with a fresh tenants file on a free loopback port and waits for /readyz.
// It returns the node and the HS256 secret of its tenant.
func spawnNode(ctx context.Context, bin string, logPath string, debug bool) (*spawned, string, error) {
	secretBytes := make([]byte, 24)
	if _, err := rand.Read(secretBytes); err != nil {
		return nil, "", fmt.Errorf("secret: %w", err)
	}
	secret := hex.EncodeToString(secretBytes)
	dir, err := os.MkdirTemp("", "realtime-bench-")
	if err != nil {
		return nil, "", fmt.Errorf("temp dir: %w", err)
	}
	tenants := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(tenants, []byte(tenantsYAML(secret)), 0o600); err != nil {
		return nil, "", fmt.Errorf("write tenants: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	adminPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	s := &spawned{addr: "127.0.0.1:" + strconv.Itoa(port), adminAddr: "127.0.0.1:" + strconv.Itoa(adminPort), dir: dir, done: make(chan struct{})}
	args := []string{"--addr", s.addr, "--admin-addr", s.adminAddr, "--tenants", tenants, "--default-tenant", benchTenant, "--log-level", "warn"}
	if debug {
		debugPort, err := freePort()
		if err != nil {
			return nil, "", err
		}
		s.debugAddr = "127.0.0.1:" + strconv.Itoa(debugPort)
		args = append(args, "--debug-addr", s.debugAddr)
	}
	s.cmd = exec.Command(bin, args...)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("node log: %w", err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); logf.Close(); close(s.done) }()
	if err := waitReady(ctx, "http://"+s.addr+"/readyz", s.done); err != nil {
		s.stop()
		return nil, "", err
	}
	return s, secret, nil
}

func (s *spawned) pid() int { return s.cmd.Process.Pid }

// stop kills the node: every bench socket is already closed, and a graceful shutdown would only
// add the node's drain window to each scenario.
func (s *spawned) stop() {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	_ = os.RemoveAll(s.dir)
}

func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			return fmt.Errorf("node exited before it was ready (see the node log)")
		case <-ctx.Done():
			return fmt.Errorf("node not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// signHS256 mints the bench's client token (role + exp, docs/protocol.md#jwt-verification).
func signHS256(secret string, ttl time.Duration) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{"role": "anon", "iat": now.Unix(), "exp": now.Add(ttl).Unix()})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// raiseNoFile lifts RLIMIT_NOFILE (soft and, as root, hard) for the bench and the node it spawns;
// 10,000 sockets on each side exceed common defaults. Go's os/exec keeps an explicitly set limit
// for children.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	try := syscall.Rlimit{Cur: want, Max: max(want, lim.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try); err == nil {
		return want, nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("setrlimit: %w", err)
	}
	return lim.Cur, nil
}
