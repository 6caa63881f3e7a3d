package main

import (
	"os"
	"strings"
	"time"
)

// window measures server CPU, bench CPU and wall time over a phase of a scenario. Every
// throughput in the report is printed next to the server CPU it cost, because the machine is
// shared and wall-clock rates alone are noise.
type window struct {
	load0    string
	pid      int
	start    time.Time
	server0  procSample
	bench0   float64
	hasProc  bool
	procErrs []string
}

func openWindow(pid int) *window {
	w := &window{pid: pid, start: time.Now(), bench0: selfCPU(), load0: loadAvg()}
	s, err := readProc(pid)
	if err != nil {
		w.procErrs = append(w.procErrs, err.Error())
	}
	w.server0, w.hasProc = s, pid != 0 && err == nil
	return w
}

// windowStats are the deltas over a window.
type windowStats struct {
	Load       string // "1-min load average at start -> at end": context for noisy figures
	Wall       time.Duration
	ServerCPU  float64 // seconds; 0 when unknown
	BenchCPU   float64
	ServerRSS  int64 // at the end of the window
	ServerKnow bool
}

func (w *window) close() windowStats {
	st := windowStats{Wall: time.Since(w.start), BenchCPU: selfCPU() - w.bench0, Load: w.load0 + " -> " + loadAvg()}
	if !w.hasProc {
		return st
	}
	s, err := readProc(w.pid)
	if err != nil {
		return st
	}
	st.ServerCPU = s.CPUSeconds - w.server0.CPUSeconds
	st.ServerRSS = s.RSSBytes
	st.ServerKnow = true
	return st
}

// addThroughput reports count events over the window as a rate, with the CPU figures beside it.
func (r *result) addThroughput(name string, count float64, st windowStats) {
	secs := st.Wall.Seconds()
	r.add(name+"/s", count/secs, "1/s")
	r.add("wall time", secs, "s")
	if st.ServerKnow {
		r.add("server CPU", st.ServerCPU, "s")
		r.add("server CPU utilisation", st.ServerCPU/secs, "cores")
		if st.ServerCPU > 0 {
			r.add(name+" per server CPU-second", count/st.ServerCPU, "1/CPU-s")
		}
		r.add("server RSS at end", float64(st.ServerRSS)/(1<<20), "MiB")
	} else {
		r.note("server CPU unknown (use --spawn or --pid)")
	}
	r.add("bench CPU", st.BenchCPU, "s")
	r.note("machine load average %s", st.Load)
}

// loadAvg is the 1-minute load average from /proc/loadavg ("?" when unreadable).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
