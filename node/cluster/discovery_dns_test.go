package cluster

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestMembersFromAddrs(t *testing.T) {
	cases := []struct {
		ips  []string
		want []string
	}{
		{nil, nil},
		{[]string{"10.0.0.2", "10.0.0.1", "10.0.0.2"}, []string{"10.0.0.1:4100", "10.0.0.2:4100"}},
		{[]string{"fd00::1", "not-an-ip"}, []string{"[fd00::1]:4100"}},
	}
	for _, tc := range cases {
		var got []string
		for _, m := range membersFromAddrs(tc.ips, 4100) {
			got = append(got, m.Addr)
		}
		if !equalStrings(got, tc.want) {
			t.Errorf("membersFromAddrs(%v) = %v, want %v", tc.ips, got, tc.want)
		}
	}
}

// TestDNSDiscoveryResolvesLocalhost uses the real resolver on a name every machine has.
func TestDNSDiscoveryResolvesLocalhost(t *testing.T) {
	d := NewDNSDiscovery(DNSConfig{Name: "localhost", Port: 4100, Interval: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); _ = <-done }()
	select {
	case <-d.Changes():
	case <-time.After(5 * time.Second):
		t.Fatal("no membership change from resolving localhost")
	}
	found := false
	for _, m := range d.Members() {
		found = found || m.Addr == "127.0.0.1:4100"
	}
	if !found {
		t.Fatalf("members %v lack 127.0.0.1:4100", d.Members())
	}
}
