package placement

import (
	"testing"
	"time"
)

// rn is a ready node with a measured RTT (0: not measured).
func rn(name, region string, rtt float64) Node {
	return Node{Name: name, Region: region, Ready: true, RTTms: rtt}
}

func TestChooseWithRTT(t *testing.T) {
	mapping := map[string]string{"eu-central-1": "eu"}
	tests := []struct {
		name       string
		dbRegion   string
		nodes      []Node
		wantNodes  []string // the decision is one of these
		wantReason Reason
	}{
		{"labelled region within margin wins over a lower RTT", "eu",
			[]Node{rn("eu-a", "eu", 4), rn("us-a", "us", 0.5)}, []string{"eu-a"}, SameRegion},
		{"labelled region worse than best by more than margin loses", "eu",
			[]Node{rn("eu-a", "eu", 90), rn("us-a", "us", 40)}, []string{"us-a"}, LowestRTT},
		{"only the region's nodes within margin compete", "eu",
			[]Node{rn("eu-a", "eu", 100.5), rn("eu-b", "eu", 0.4), rn("us-a", "us", 40)}, []string{"eu-b"}, SameRegion},
		{"unmeasured labelled region trusted", "eu",
			[]Node{rn("eu-a", "eu", 0), rn("us-a", "us", 40)}, []string{"eu-a"}, SameRegion},
		{"mapped region subject to the margin too", "eu-central-1",
			[]Node{rn("eu-a", "eu", 60), rn("ap-a", "ap", 20)}, []string{"ap-a"}, LowestRTT},
		{"mapped region within margin", "eu-central-1",
			[]Node{rn("eu-a", "eu", 21), rn("ap-a", "ap", 20)}, []string{"eu-a"}, MappedRegion},
		{"unlabelled database placed by RTT alone", "",
			[]Node{rn("eu-a", "eu", 40), rn("us-a", "us", 0.3), rn("us-b", "us", 0.4), rn("ap-a", "ap", 0)},
			[]string{"us-a", "us-b"}, LowestRTT},
		{"region without nodes placed by RTT", "sa-east-1",
			[]Node{rn("eu-a", "eu", 90), rn("us-a", "us", 60)}, []string{"us-a"}, LowestRTT},
		{"not ready node's RTT ignored", "",
			[]Node{rn("eu-a", "eu", 40), {Name: "us-a", Region: "us", RTTms: 0.3}}, []string{"eu-a"}, LowestRTT},
		{"nothing measured: any ready", "",
			[]Node{rn("eu-a", "eu", 0)}, []string{"eu-a"}, AnyRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := Choose("tenant-1", tt.dbRegion, mapping, tt.nodes)
			if !ok || d.Reason != tt.wantReason || !contains(tt.wantNodes, d.Node) {
				t.Fatalf("Choose = %+v %v; want one of %v by %s", d, ok, tt.wantNodes, tt.wantReason)
			}
		})
	}
}

func TestMarginRatio(t *testing.T) {
	p := Policy{MarginMs: 5, MarginRatio: 2}
	ns := []Node{rn("eu-a", "eu", 70), rn("us-a", "us", 40)}
	if d, _ := p.Choose("t", "eu", nil, ns); d.Node != "eu-a" {
		t.Fatalf("70 ms is within 2x of 40 ms: got %+v", d)
	}
	ns[0].RTTms = 81
	if d, _ := p.Choose("t", "eu", nil, ns); d.Node != "us-a" {
		t.Fatalf("81 ms is over 2x of 40 ms: got %+v", d)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestPlaceHysteresis(t *testing.T) {
	p := Policy{MarginMs: 5, Hysteresis: Hysteresis{MinGainMs: 10, MinGainRatio: 0.2, Hold: time.Minute}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	slow := []Node{rn("eu-a", "eu", 100.4), rn("eu-b", "eu", 0.4), rn("us-a", "us", 40)}
	flutter := []Node{rn("eu-a", "eu", 2.4), rn("eu-b", "eu", 0.4), rn("us-a", "us", 40)}
	usSlow := []Node{rn("eu-a", "eu", 40), rn("us-a", "us", 25), rn("us-b", "us", 0.3)}
	tests := []struct {
		name         string
		current      string
		pending      Pending
		at           time.Duration
		db           string
		nodes        []Node
		want         string
		wantPending  string
		wantLowerRTT bool
	}{
		{"first sight of a gain starts the clock", "eu-a", Pending{}, 0, "eu", slow, "eu-a", "eu-b", false},
		{"gain held shorter than Hold: stay", "eu-a", Pending{"eu-b", t0}, 59 * time.Second, "eu", slow, "eu-a", "eu-b", false},
		{"gain held for Hold: move", "eu-a", Pending{"eu-b", t0}, time.Minute, "eu", slow, "eu-b", "", true},
		{"2 ms flutter is inside the margin: stay, no pending", "eu-a", Pending{}, 0, "eu", flutter, "eu-a", "", false},
		{"a broken gain cancels the pending move", "eu-a", Pending{"eu-b", t0}, 2 * time.Minute, "eu", flutter, "eu-a", "", false},
		{"unlabelled: gain too small relative to owner", "us-a", Pending{"us-b", t0}, time.Hour, "",
			[]Node{rn("us-a", "us", 45), rn("us-b", "us", 39)}, "us-a", "", false},
		{"unlabelled: significant gain held moves", "us-a", Pending{"us-b", t0}, time.Hour, "", usSlow, "us-b", "", true},
		{"owner not measured yet: stay", "eu-a", Pending{"us-b", t0}, time.Hour, "",
			[]Node{rn("eu-a", "eu", 0), rn("us-b", "us", 0.3)}, "eu-a", "", false},
		{"owner not ready moves at once", "eu-a", Pending{}, 0, "eu",
			[]Node{{Name: "eu-a", Region: "eu", RTTms: 0.4}, rn("eu-b", "eu", 0.4)}, "eu-b", "", false},
		{"home region available moves at once", "us-a", Pending{}, 0, "eu",
			[]Node{rn("eu-b", "eu", 0.4), rn("us-a", "us", 40)}, "eu-b", "", false},
		{"owner gone moves at once", "gone", Pending{}, 0, "eu", slow, "eu-b", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := p.Place(tt.current, tt.pending, t0.Add(tt.at), "tenant-1", tt.db, nil, tt.nodes)
			if !ok || o.Node != tt.want || o.Pending.Node != tt.wantPending || o.LowerRTT != tt.wantLowerRTT {
				t.Fatalf("Place = %+v %v; want node %s pending %q lowerRTT %v", o, ok, tt.want, tt.wantPending, tt.wantLowerRTT)
			}
			if tt.wantPending != "" && tt.pending.Node != "" && !o.Pending.Since.Equal(tt.pending.Since) {
				t.Fatalf("pending clock restarted: %v, want %v", o.Pending.Since, tt.pending.Since)
			}
			if o.LowerRTT && (o.FromMs != find(tt.nodes, tt.current).RTTms || o.ToMs != find(tt.nodes, o.Node).RTTms) {
				t.Fatalf("LowerRTT figures %v -> %v do not match the nodes", o.FromMs, o.ToMs)
			}
		})
	}
}

func TestPlaceWithoutHold(t *testing.T) {
	ns := []Node{rn("eu-a", "eu", 100.4), rn("eu-b", "eu", 0.4)}
	o, _ := DefaultPolicy.Place("eu-a", Pending{}, time.Time{}, "t", "eu", nil, ns)
	if o.Node != "eu-b" || !o.LowerRTT || o.Pending.Node != "" {
		t.Fatalf("Hold 0: %+v, want an immediate LowerRTT move to eu-b", o)
	}
	ns[0].RTTms = 8.4 // outside the 5 ms margin, but a gain under 10 ms
	if o, _ := DefaultPolicy.Place("eu-a", Pending{}, time.Time{}, "t", "eu", nil, ns); o.Node != "eu-a" {
		t.Fatalf("an 8 ms gain moved the owner: %+v", o)
	}
}

// TestPlaceNeverMovesOnFlutter runs many evaluations with the owner's RTT fluttering by 2 ms
// around another node's: whatever the sequence, the owner stays.
func TestPlaceNeverMovesOnFlutter(t *testing.T) {
	p := DefaultPolicy
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cur, pend := "us-a", Pending{}
	for i := 0; i < 1000; i++ {
		own := 0.3 + float64(i%3) // 0.3, 1.3, 2.3 ms
		ns := []Node{rn("us-a", "us", own), rn("us-b", "us", 0.3), rn("eu-a", "eu", 40)}
		o, _ := p.Place(cur, pend, t0.Add(time.Duration(i)*time.Second), "tenant-9", "", nil, ns)
		if o.Node != cur {
			t.Fatalf("evaluation %d moved %s -> %s on a %v ms flutter", i, cur, o.Node, own-0.3)
		}
		pend = o.Pending
	}
}
