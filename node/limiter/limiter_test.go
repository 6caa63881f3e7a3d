package limiter

import "testing"

func TestCounterTriggersAndClears(t *testing.T) {
	var c Counter
	c.Add(600) // 600 events in 5 s = 120/s
	c.Tick(100)
	if !c.Triggered() || c.Average() != 120 {
		t.Fatalf("after burst: triggered=%v avg=%v", c.Triggered(), c.Average())
	}
	c.Tick(100) // (600+0)/2/5 = 60/s
	if c.Triggered() || c.Average() != 60 {
		t.Fatalf("after quiet tick: triggered=%v avg=%v", c.Triggered(), c.Average())
	}
}

func TestCounterWindowIsTwelveBuckets(t *testing.T) {
	var c Counter
	c.Add(60 * 5)
	c.Tick(0)
	for i := 0; i < 11; i++ {
		c.Tick(0)
	}
	if got := c.Average(); got != 5 { // 300 / 12 / 5
		t.Fatalf("avg = %v, want 5", got)
	}
	c.Tick(0) // the burst bucket falls out
	if got := c.Average(); got != 0 {
		t.Fatalf("avg = %v, want 0", got)
	}
	if c.Triggered() {
		t.Fatal("limit 0 means unlimited")
	}
}

func TestWindow(t *testing.T) {
	var w Window
	for i := 0; i < 5; i++ {
		if !w.Allow(1000+int64(i), 5, 30000) {
			t.Fatalf("call %d refused", i+1)
		}
	}
	if w.Allow(2000, 5, 30000) {
		t.Fatal("6th call in window allowed")
	}
	if !w.Allow(31000, 5, 30000) {
		t.Fatal("call after window end refused")
	}
}

func TestTenantsTickUsesLimits(t *testing.T) {
	ts := NewTenants(func(string) (int, int, int) { return 1, 2, 3 })
	ts.Counter("a", Joins).Add(10) // 2/s
	ts.Counter("a", Events).Add(4) // 0.8/s
	ts.Tick()
	if !ts.Counter("a", Joins).Triggered() {
		t.Fatal("joins 2/s >= limit 2 must trigger")
	}
	if ts.Counter("a", Events).Triggered() {
		t.Fatal("events 0.8/s < 1 must not trigger")
	}
}
