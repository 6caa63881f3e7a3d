package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports for this tool.
const clockTicks = 100

// procSample is a snapshot of one process from /proc.
type procSample struct {
	CPUSeconds float64 // utime + stime
	RSSBytes   int64   // VmRSS
}

// readProc samples /proc/<pid>/stat and /proc/<pid>/status. pid 0 means "unknown server": the
// zero sample is returned and the report prints "n/a".
func readProc(pid int) (procSample, error) {
	if pid == 0 {
		return procSample{}, nil
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procSample{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	rss, err := parseStatusRSS(status)
	if err != nil {
		return procSample{}, err
	}
	return procSample{CPUSeconds: cpu, RSSBytes: rss}, nil
}

// parseStatCPU returns utime+stime in seconds. Fields are counted after the last ')' because the
// command name (field 2) may contain spaces and parentheses.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat: no ')'")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ')': state(3) ppid(4) ... utime(14) stime(15) → indexes 11 and 12 here.
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the name", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat utime/stime: %q %q", f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// parseStatusRSS returns VmRSS in bytes.
func parseStatusRSS(status []byte) (int64, error) {
	for _, line := range strings.Split(string(status), "\n") {
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		f := strings.Fields(line[len("VmRSS:"):])
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed VmRSS %q: %w", line, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no VmRSS in /proc status")
}

// selfCPU samples the bench process itself, so a report can show whether the client side was the
// bottleneck.
func selfCPU() float64 {
	s, err := readProc(os.Getpid())
	if err != nil {
		return 0
	}
	return s.CPUSeconds
}
