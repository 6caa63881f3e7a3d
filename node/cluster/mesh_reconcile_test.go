package cluster

import (
	"slices"
	"testing"
)

func TestDialTargets(t *testing.T) {
	self := Member{Name: "b", Addr: "10.0.0.2:1"}
	cases := []struct {
		name      string
		members   []Member
		addrNames map[string]string
		selfAddrs map[string]bool
		want      []string // addrs
	}{
		{"lower name dials higher only", []Member{
			{Name: "a", Addr: "10.0.0.1:1"}, self, {Name: "c", Addr: "10.0.0.3:1"},
		}, nil, nil, []string{"10.0.0.3:1"}},
		{"nameless members are dialed", []Member{
			{Addr: "10.0.0.1:1"}, {Addr: "10.0.0.2:1"}, {Addr: "10.0.0.3:1"},
		}, nil, nil, []string{"10.0.0.1:1", "10.0.0.3:1"}},
		{"learned names apply the rule", []Member{
			{Addr: "10.0.0.1:1"}, {Addr: "10.0.0.3:1"},
		}, map[string]string{"10.0.0.1:1": "a", "10.0.0.3:1": "c"}, nil, []string{"10.0.0.3:1"}},
		{"own address seen under another form is skipped", []Member{
			{Addr: "10.0.0.9:1"}, {Addr: "10.0.0.3:1"},
		}, nil, map[string]bool{"10.0.0.9:1": true}, []string{"10.0.0.3:1"}},
		{"own name at another address is skipped", []Member{
			{Name: "b", Addr: "10.0.0.7:1"}, {Addr: ""},
		}, nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for addr := range dialTargets(self, tc.members, tc.addrNames, tc.selfAddrs) {
				got = append(got, addr)
			}
			slices.Sort(got)
			if !equalStrings(got, tc.want) {
				t.Fatalf("targets %v, want %v", got, tc.want)
			}
		})
	}
}
