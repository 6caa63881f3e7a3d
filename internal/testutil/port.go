package testutil

import (
	"fmt"
	"net"
	"testing"
)

// FreePort returns a TCP port free on ip ("127.0.0.1" when empty) a moment ago: the kernel picks
// it for a listener that is closed again, so another program could take it before the caller
// binds it (the caller then fails to start, and says so).
func FreePort(ip string) (int, error) {
	ports, err := FreePorts(ip, 1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// FreePorts returns n distinct free ports on ip, by listening on them all at once.
func FreePorts(ip string, n int) ([]int, error) {
	if ip == "" {
		ip = "127.0.0.1"
	}
	ports := make([]int, 0, n)
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("free port on %s: %w", ip, err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// MustFreePorts is FreePorts that fails the test on error.
func MustFreePorts(t testing.TB, ip string, n int) []int {
	t.Helper()
	ports, err := FreePorts(ip, n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}
