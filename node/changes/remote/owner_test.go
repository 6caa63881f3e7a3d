package remote

import (
	"fmt"
	"testing"

	"github.com/realtimeops/realtime/node/cluster"
)

func member(name, region string) cluster.Member {
	return cluster.Member{Name: name, Region: region, Addr: name + ":4001"}
}

func TestChooseOwner(t *testing.T) {
	eu1, eu2, us1 := member("eu-a", "eu-west-2"), member("eu-b", "eu-west-2"), member("us-a", "us-east-1")
	mapping := map[string]string{"eu-central-1": "eu-west-2"}
	cases := []struct {
		name     string
		dbRegion string
		self     cluster.Member
		peers    []cluster.Member
		want     []string // acceptable owners (one unless rendezvous decides among several)
	}{
		{"alone owns everything", "eu-west-2", us1, nil, []string{"us-a"}},
		{"same region wins over self", "eu-west-2", us1, []cluster.Member{eu1}, []string{"eu-a"}},
		{"mapped region", "eu-central-1", us1, []cluster.Member{eu1}, []string{"eu-a"}},
		{"unknown region: any node", "mars-1", us1, []cluster.Member{eu1}, []string{"us-a", "eu-a"}},
		{"rendezvous inside the region", "eu-west-2", us1, []cluster.Member{eu1, eu2}, []string{"eu-a", "eu-b"}},
		{"self listed among peers is ignored", "us-east-1", us1, []cluster.Member{us1, eu1}, []string{"us-a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ChooseOwner("tenant-1", c.dbRegion, mapping, c.self, c.peers)
			ok := false
			for _, w := range c.want {
				ok = ok || got == w
			}
			if !ok {
				t.Fatalf("owner %q, want one of %v", got, c.want)
			}
		})
	}
}

// Every node must reach the same answer from the same live set, whichever of them computes it.
func TestChooseOwnerAgreesAcrossNodes(t *testing.T) {
	nodes := []cluster.Member{member("n1", "r1"), member("n2", "r1"), member("n3", "r1"), member("n4", "r2")}
	for i := 0; i < 200; i++ {
		tenantID := fmt.Sprintf("tenant-%d", i)
		var first string
		for j, self := range nodes {
			var peers []cluster.Member
			for k, p := range nodes {
				if k != j {
					peers = append(peers, p)
				}
			}
			got := ChooseOwner(tenantID, "r1", nil, self, peers)
			if got == "n4" {
				t.Fatalf("%s: owner outside the database region", tenantID)
			}
			if j == 0 {
				first = got
			} else if got != first {
				t.Fatalf("%s: node %s chose %s, node n1 chose %s", tenantID, self.Name, got, first)
			}
		}
	}
}

// Losing a node moves only the tenants it owned (rendezvous hashing), to the next-ranked node.
func TestChooseOwnerMovesOnlyTheDeadNodesTenants(t *testing.T) {
	all := []cluster.Member{member("n1", "r"), member("n2", "r"), member("n3", "r")}
	moved, owned := 0, 0
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("t%d", i)
		before := ChooseOwner(id, "r", nil, all[0], all[1:])
		after := ChooseOwner(id, "r", nil, all[0], all[1:2]) // n3 died
		if before == "n3" {
			owned++
			if after == "n3" {
				t.Fatalf("%s still owned by the dead node", id)
			}
			continue
		}
		if after != before {
			moved++
		}
	}
	if moved != 0 || owned == 0 {
		t.Fatalf("moved %d tenants not owned by the dead node; dead node owned %d", moved, owned)
	}
}

func TestAllLinked(t *testing.T) {
	self, a, b := member("s", "r"), member("a", "r"), member("b", "r")
	dnsOnly := cluster.Member{Addr: b.Addr} // DNS discovery knows addresses only
	cases := []struct {
		name         string
		listed, live []cluster.Member
		want         bool
	}{
		{"alone", []cluster.Member{self}, nil, true},
		{"all linked", []cluster.Member{self, a, b}, []cluster.Member{a, b}, true},
		{"one missing", []cluster.Member{self, a, b}, []cluster.Member{a}, false},
		{"matched by address", []cluster.Member{self, a, dnsOnly}, []cluster.Member{a, b}, true},
		{"unlisted live peer is fine", []cluster.Member{self}, []cluster.Member{a}, true},
	}
	for _, c := range cases {
		if got := allLinked(self, c.listed, c.live); got != c.want {
			t.Errorf("%s: allLinked = %v, want %v", c.name, got, c.want)
		}
	}
}
