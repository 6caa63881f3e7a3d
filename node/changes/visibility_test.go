package changes

import (
	"strconv"
	"testing"
)

func TestSnapshotSees(t *testing.T) {
	const epoch = uint64(3) << 32
	cases := []struct {
		name, snap string
		xid        uint32
		want       bool
	}{
		{"before xmin", "100:105:", 99, true},
		{"between, not running", "100:105:101,103", 102, true},
		{"running", "100:105:101,103", 103, false},
		{"at xmax: not completed when taken", "100:105:", 105, false},
		{"after xmax", "100:105:", 200, false},
		{"epoch bits ignored", u(epoch+100) + ":" + u(epoch+105) + ":" + u(epoch+102), 102, false},
		{"epoch, visible", u(epoch+100) + ":" + u(epoch+105) + ":", 104, true},
		{"xmax wrapped past 2^32", u(epoch+1<<32-2) + ":" + u(epoch+1<<32+3) + ":", 1<<32 - 1, true},
		{"wrapped, future id", u(epoch+1<<32-2) + ":" + u(epoch+1<<32+3) + ":", 3, false},
		{"wrapped, running", u(epoch+1<<32-2) + ":" + u(epoch+1<<32+3) + ":" + u(epoch+1<<32+1), 1, false},
	}
	for _, c := range cases {
		s, err := parseSnapshot(c.snap)
		if err != nil {
			t.Fatalf("%s: parse %q: %v", c.name, c.snap, err)
		}
		if got := s.sees(c.xid); got != c.want {
			t.Errorf("%s: %q sees %d = %v, want %v", c.name, c.snap, c.xid, got, c.want)
		}
	}
}

func TestParseSnapshotRejects(t *testing.T) {
	for _, s := range []string{"", "1:2", "a:2:", "5:2:", "1:2:x", "1:2:3,", "1:2:3:4"} {
		if _, err := parseSnapshot(s); err == nil {
			t.Errorf("parseSnapshot(%q) accepted", s)
		}
	}
}

func TestSeesAllReportsFirstInvisible(t *testing.T) {
	s, _ := parseSnapshot("10:20:12,15")
	if x, ok := s.seesAll([]uint32{11, 15, 12}); ok || x != 15 {
		t.Errorf("seesAll = %d, %v; want 15, false", x, ok)
	}
	if _, ok := s.seesAll([]uint32{11, 13, 19}); !ok {
		t.Error("seesAll of visible ids = false")
	}
}

func FuzzParseSnapshot(f *testing.F) {
	for _, s := range []string{"100:105:101,103", "1:1:", "", "4294967296:4294967300:4294967297"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		snap, err := parseSnapshot(s)
		if err != nil {
			return
		}
		for x := range snap.xip {
			if snap.sees(x) {
				t.Fatalf("%q: running xid %d seen", s, x)
			}
		}
	})
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }
