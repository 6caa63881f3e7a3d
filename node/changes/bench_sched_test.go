package changes

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/pgtest"
)

// runqWait returns how long this process's threads and the Postgres server's processes have
// been runnable but waiting for a CPU (the second field of /proc/<pid>/task/<tid>/schedstat).
// On a shared machine this is what stretches a latency tail that the code did not cause.
func runqWait(inst *pgtest.Instance) (node, pg time.Duration) {
	node = schedWait("/proc/self/task/*/schedstat")
	b, err := os.ReadFile(filepath.Join(inst.Dir, "data", "postmaster.pid"))
	if err != nil {
		return node, 0
	}
	master := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		pid := filepath.Base(filepath.Dir(p))
		if len(f) > 1 && (pid == master || f[1] == master) {
			pg += schedWait(filepath.Join(filepath.Dir(p), "task", "*", "schedstat"))
		}
	}
	return node, pg
}

func schedWait(glob string) time.Duration {
	files, _ := filepath.Glob(glob)
	var sum time.Duration
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if fs := strings.Fields(string(b)); len(fs) >= 2 {
			ns, _ := strconv.ParseInt(fs[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

// reportRunqWait reports the run-queue wait since (n0, p0) as milliseconds per wall second.
func reportRunqWait(b *testing.B, inst *pgtest.Instance, n0, p0, elapsed time.Duration) {
	n1, p1 := runqWait(inst)
	b.ReportMetric(float64((n1-n0).Milliseconds())/elapsed.Seconds(), "node-runq-wait-ms/s")
	b.ReportMetric(float64((p1-p0).Milliseconds())/elapsed.Seconds(), "pg-runq-wait-ms/s")
}
