package cluster

import (
	"strings"
	"testing"
)

func TestChannelName(t *testing.T) {
	long := strings.Repeat("x", 80)
	cases := []struct{ in, want string }{
		{"prod", "realtime_cluster_prod"},
		{"eu-west/prod.1", "realtime_cluster_eu_west_prod_1"},
		{"Ünï", "realtime_cluster__n_"},
		{"", "realtime_cluster_"},
	}
	for _, tc := range cases {
		if got := ChannelName(tc.in); got != tc.want {
			t.Errorf("ChannelName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	a, b := ChannelName(long), ChannelName(long+"y")
	if len(a) != maxIdentifier || len(b) != maxIdentifier || a == b {
		t.Errorf("long names: %q (%d) %q (%d)", a, len(a), b, len(b))
	}
}

func TestAnnouncementRoundTrip(t *testing.T) {
	m := Member{Name: "n1", Region: "eu", Addr: "127.0.0.1:7000", Epoch: 42}
	for _, op := range []string{opHello, opBeat, opBye} {
		s, err := encodeAnnouncement(op, m)
		if err != nil {
			t.Fatal(err)
		}
		a, err := decodeAnnouncement(s)
		if err != nil || a.Op != op || a.Member != m {
			t.Fatalf("round trip %s: %+v %v", op, a, err)
		}
	}
	bad := []string{``, `{}`, `{"op":"beat"}`, `{"op":"zap","name":"a","addr":"b"}`, `[1]`, `{"op":"beat","name":"a"}`}
	for _, s := range bad {
		if _, err := decodeAnnouncement(s); err == nil {
			t.Errorf("decodeAnnouncement(%q) accepted", s)
		}
	}
}

func FuzzDecodeAnnouncement(f *testing.F) {
	f.Add(`{"op":"beat","name":"a","region":"r","addr":"1.2.3.4:5","epoch":7}`)
	f.Add(`{"op":"bye","name":"a","addr":"x","epoch":-1}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, s string) {
		a, err := decodeAnnouncement(s)
		if err == nil && (a.Name == "" || a.Addr == "") {
			t.Fatalf("accepted incomplete announcement %+v", a)
		}
	})
}
