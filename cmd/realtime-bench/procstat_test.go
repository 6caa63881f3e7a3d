package main

import (
	"os"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  bool
	}{
		{in: "1234 (realtime-node) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 12 0 100 0 0", want: 4.0},
		{in: "7 (we (ird) name) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 0 0", want: 0.03},
		{in: "7 no paren", err: true},
		{in: "7 (x) S 1 2", err: true},
	}
	for _, tt := range tests {
		got, err := parseStatCPU([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Fatalf("%q: err = %v", tt.in, err)
		}
		if err == nil && got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	got, err := parseStatusRSS([]byte("Name:\tx\nVmPeak:\t 100 kB\nVmRSS:\t    2048 kB\nThreads: 3\n"))
	if err != nil || got != 2048*1024 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := parseStatusRSS([]byte("Name: x\n")); err == nil {
		t.Fatal("no error without VmRSS")
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSBytes <= 0 {
		t.Fatalf("RSS of the test process = %d", s.RSSBytes)
	}
}

func TestParsePromLine(t *testing.T) {
	tests := []struct {
		in   string
		name string
		v    float64
		ok   bool
	}{
		{"go_goroutines 12", "go_goroutines", 12, true},
		{"go_memstats_heap_inuse_bytes 1.933312e+06", "go_memstats_heap_inuse_bytes", 1933312, true},
		{`realtime_socket_write_batch_frames_sum{tenant="a b"} 42 1700000000`, "realtime_socket_write_batch_frames_sum", 42, true},
		{"# HELP go_goroutines x", "", 0, false},
		{"", "", 0, false},
		{"broken{", "", 0, false},
		{"name notanumber", "", 0, false},
	}
	for _, tt := range tests {
		name, v, ok := parsePromLine(tt.in)
		if name != tt.name || v != tt.v || ok != tt.ok {
			t.Errorf("%q: got %q %v %v", tt.in, name, v, ok)
		}
	}
}
