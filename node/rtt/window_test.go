package rtt

import (
	"testing"
	"time"
)

func TestWindowMedian(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		size    int
		samples []float64
		want    float64
		wantOK  bool
	}{
		{"empty", 5, nil, 0, false},
		{"one", 5, []float64{3}, 3, true},
		{"odd count", 5, []float64{9, 1, 5}, 5, true},
		{"even count averages the middle two", 5, []float64{4, 1, 2, 3}, 2.5, true},
		{"one outlier in five does not move it", 5, []float64{40, 41, 400, 40.5, 39.5}, 40.5, true},
		{"old samples fall out of the window", 3, []float64{100, 100, 100, 1, 2, 3}, 2, true},
		{"size below 1 keeps one", 0, []float64{7, 8}, 8, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWindow(tt.size)
			for i, s := range tt.samples {
				w.Add(s, t0.Add(time.Duration(i)*time.Second))
			}
			got, ok := w.Median()
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("Median = %v %v, want %v %v", got, ok, tt.want, tt.wantOK)
			}
			if n := len(tt.samples); n > 0 && !w.Last().Equal(t0.Add(time.Duration(n-1)*time.Second)) {
				t.Fatalf("Last = %v", w.Last())
			}
		})
	}
}

func TestChanged(t *testing.T) {
	tests := []struct {
		a, b float64
		want bool
	}{
		{40, 41, false},   // 1 ms
		{40, 44, false},   // 10%: under 20%
		{40, 49, true},    // 22%, 9 ms
		{0.3, 1.5, false}, // 400% but 1.2 ms
		{0.3, 2.6, true},  // over 2 ms and 20%
		{100, 50, true},
	}
	for _, tt := range tests {
		if got := Changed(tt.a, tt.b, 2, 0.2); got != tt.want {
			t.Errorf("Changed(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestEndpoint(t *testing.T) {
	if got := Endpoint("db.eu", 0); got != "db.eu:5432" {
		t.Fatalf("Endpoint default port = %q", got)
	}
	if got := Endpoint("::1", 6543); got != "[::1]:6543" {
		t.Fatalf("Endpoint IPv6 = %q", got)
	}
}
