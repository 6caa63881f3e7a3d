package placement

import (
	"fmt"
	"hash/fnv"
	"testing"
)

func nodes(spec ...string) []Node {
	// spec items: "name@region" (ready) or "name@region!" (not ready)
	var out []Node
	for _, s := range spec {
		ready := s[len(s)-1] != '!'
		if !ready {
			s = s[:len(s)-1]
		}
		var name, region string
		for i := range s {
			if s[i] == '@' {
				name, region = s[:i], s[i+1:]
			}
		}
		out = append(out, Node{Name: name, Region: region, Ready: ready})
	}
	return out
}

func TestChoose(t *testing.T) {
	mapping := map[string]string{"eu-central-1": "eu-west", "us-east-1": "us-east"}
	tests := []struct {
		name       string
		dbRegion   string
		nodes      []Node
		wantRegion string
		wantReason Reason
		wantOK     bool
	}{
		{"same region", "eu-west", nodes("a@eu-west", "b@eu-west", "c@us-east"), "eu-west", SameRegion, true},
		{"mapped region", "eu-central-1", nodes("a@eu-west", "c@us-east"), "eu-west", MappedRegion, true},
		{"same region wins over mapping", "us-east-1", nodes("a@us-east-1", "c@us-east"), "us-east-1", SameRegion, true},
		{"same region not ready falls to mapping", "eu-central-1",
			nodes("x@eu-central-1!", "a@eu-west", "c@us-east"), "eu-west", MappedRegion, true},
		{"mapped region not ready falls back to any", "eu-central-1",
			nodes("a@eu-west!", "b@eu-west!", "c@us-east"), "us-east", AnyRegion, true},
		{"unknown region any ready", "ap-south-1", nodes("a@eu-west", "c@us-east!"), "eu-west", AnyRegion, true},
		{"no db region any ready", "", nodes("c@us-east"), "us-east", AnyRegion, true},
		{"nothing ready", "eu-west", nodes("a@eu-west!", "c@us-east!"), "", "", false},
		{"no nodes", "eu-west", nil, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := Choose("tenant-1", tt.dbRegion, mapping, tt.nodes)
			if ok != tt.wantOK || d.Region != tt.wantRegion || d.Reason != tt.wantReason {
				t.Fatalf("Choose = %+v, %v; want region %q reason %q ok %v", d, ok, tt.wantRegion, tt.wantReason, tt.wantOK)
			}
			if ok {
				assertReadyMember(t, d, tt.nodes)
			}
		})
	}
}

func assertReadyMember(t *testing.T, d Decision, ns []Node) {
	t.Helper()
	for _, n := range ns {
		if n.Name == d.Node {
			if !n.Ready || n.Region != d.Region {
				t.Fatalf("chose %+v which is not a ready node of region %q", n, d.Region)
			}
			return
		}
	}
	t.Fatalf("chose unknown node %q", d.Node)
}

func TestChooseSticky(t *testing.T) {
	ns := nodes("a@eu-west", "b@eu-west", "c@eu-west", "x@us-east")
	fresh, _ := Choose("tenant-7", "eu-west", nil, ns)
	other := "a"
	if fresh.Node == "a" {
		other = "b"
	}
	tests := []struct {
		name, current, dbRegion string
		nodes                   []Node
		want                    string
	}{
		{"no current takes fresh choice", "", "eu-west", ns, fresh.Node},
		{"healthy current in region stays", other, "eu-west", ns, other},
		{"current not ready moves", other, "eu-west", markNotReady(ns, other), "?"},
		{"current in wrong region moves home", "x", "eu-west", ns, fresh.Node},
		{"current unknown moves", "gone", "eu-west", ns, fresh.Node},
		{"any-region fallback keeps ready current", "x", "ap-south-1", ns, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := ChooseSticky(tt.current, "tenant-7", tt.dbRegion, nil, tt.nodes)
			if !ok {
				t.Fatal("no decision")
			}
			if tt.want == "?" {
				if d.Node == tt.current {
					t.Fatalf("stayed on not-ready %q", d.Node)
				}
				assertReadyMember(t, d, tt.nodes)
				return
			}
			if d.Node != tt.want {
				t.Fatalf("ChooseSticky = %+v, want node %q", d, tt.want)
			}
		})
	}
}

func markNotReady(ns []Node, name string) []Node {
	out := append([]Node(nil), ns...)
	for i := range out {
		if out[i].Name == name {
			out[i].Ready = false
		}
	}
	return out
}

// TestDistribution checks that rendezvous hashing spreads tenants evenly and that losing a node
// moves only that node's tenants.
func TestDistribution(t *testing.T) {
	const tenants, pods = 10000, 10
	var ns []Node
	for i := 0; i < pods; i++ {
		ns = append(ns, Node{Name: fmt.Sprintf("realtime-eu-west-%d", i), Region: "eu-west", Ready: true})
	}
	before := make(map[string]string, tenants)
	counts := map[string]int{}
	for i := 0; i < tenants; i++ {
		id := fmt.Sprintf("project-%05d", i)
		d, _ := Choose(id, "eu-west", nil, ns)
		before[id] = d.Node
		counts[d.Node]++
	}
	want := tenants / pods
	for n, c := range counts {
		if c < want*85/100 || c > want*115/100 {
			t.Errorf("node %s owns %d tenants, want %d ±15%%", n, c, want)
		}
	}
	lost := ns[3].Name
	after := markNotReady(ns, lost)
	moved := 0
	for id, owner := range before {
		d, _ := Choose(id, "eu-west", nil, after)
		if d.Node != owner {
			moved++
			if owner != lost {
				t.Fatalf("tenant %s moved from healthy %s to %s", id, owner, d.Node)
			}
		}
	}
	if moved != counts[lost] {
		t.Fatalf("moved %d tenants, want exactly the %d of the lost node", moved, counts[lost])
	}
}

func TestScoreDeterministic(t *testing.T) {
	if Score("a", "bc") == Score("ab", "c") {
		t.Fatal("separator missing: (a,bc) and (ab,c) collide")
	}
	if first, again := Score("t", "n"), Score("t", "n"); first != again {
		t.Fatal("score not deterministic")
	}
}

// BenchmarkChoose10kTenants100Pods places 10,000 tenants over 100 pods in 5 regions; one
// iteration is the whole placement round the operator would do after a cluster-wide change.
func BenchmarkChoose10kTenants100Pods(b *testing.B) {
	regions := []string{"eu-west", "us-east", "us-west", "ap-southeast", "ap-south"}
	var ns []Node
	for i := 0; i < 100; i++ {
		r := regions[i%len(regions)]
		ns = append(ns, Node{Name: fmt.Sprintf("realtime-%s-%d", r, i/len(regions)), Region: r, Ready: true})
	}
	dbRegions := []string{"eu-west", "eu-central-1", "us-east", "us-east-1", "ap-south", "sa-east-1"}
	mapping := map[string]string{"eu-central-1": "eu-west", "us-east-1": "us-east"}
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = fmt.Sprintf("project-%05d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i, id := range ids {
			if _, ok := Choose(id, dbRegions[i%len(dbRegions)], mapping, ns); !ok {
				b.Fatal("no decision")
			}
		}
	}
}

// The inlined FNV-1a must score exactly as hash/fnv over key | 0 | node, finished by the
// splitmix64 mixer: every node of a cluster, old or new build, must rank nodes the same way.
func TestScoreMatchesFNV(t *testing.T) {
	for _, key := range []string{"", "t:room", "tenant-private:a/b/c"} {
		for _, node := range []string{"", "n1", "realtime@10.0.3.7"} {
			h := fnv.New64a()
			h.Write([]byte(key))
			h.Write([]byte{0})
			h.Write([]byte(node))
			if got, want := Score(key, node), mix(h.Sum64()); got != want {
				t.Fatalf("Score(%q, %q) = %x, want %x", key, node, got, want)
			}
		}
	}
}

func TestHighest(t *testing.T) {
	if got := Highest("k", nil); got != "" {
		t.Errorf("Highest of no names = %q", got)
	}
	names := []string{"a", "b", "c", "d"}
	for i := 0; i < 100; i++ {
		key := fmt.Sprintf("key-%d", i)
		got := Highest(key, names)
		for _, n := range names {
			if Score(key, n) > Score(key, got) {
				t.Fatalf("Highest(%q) = %s, but %s scores higher", key, got, n)
			}
		}
	}
}
