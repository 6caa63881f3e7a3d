package main

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Node-side diagnostics scraped from /metrics (Prometheus text). They explain the /proc figures:
// goroutines, heap and stack per idle socket, frames per write syscall under fan-out.
var scraped = []string{
	"go_goroutines",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_stack_inuse_bytes",
	"go_memstats_heap_objects",
	"realtime_slow_consumer_disconnects_total",
	"realtime_socket_write_batch_frames_sum",
	"realtime_socket_write_batch_frames_count",
}

// promSnapshot maps metric name → value (summed over label sets).
type promSnapshot map[string]float64

func scrapeMetrics(addr string) (promSnapshot, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape /metrics: status %d", resp.StatusCode)
	}
	want := map[string]bool{}
	for _, n := range scraped {
		want[n] = true
	}
	snap := promSnapshot{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		name, v, ok := parsePromLine(sc.Text())
		if ok && want[name] {
			snap[name] += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /metrics: %w", err)
	}
	return snap, nil
}

// parsePromLine parses `name{labels} value [timestamp]`; comments and blanks are skipped.
func parsePromLine(line string) (string, float64, bool) {
	if line == "" || line[0] == '#' {
		return "", 0, false
	}
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return "", 0, false
	}
	name := line[:end]
	rest := line[end:]
	if rest[0] == '{' {
		brace := strings.LastIndexByte(rest, '}')
		if brace < 0 {
			return "", 0, false
		}
		rest = rest[brace+1:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "", 0, false
	}
	return name, v, true
}

// addPerSocket reports node runtime figures per socket between two snapshots.
func (r *result) addPerSocket(before, after promSnapshot, sockets int) {
	if before == nil || after == nil || sockets == 0 {
		r.note("node /metrics not available: no goroutine/heap breakdown")
		return
	}
	n := float64(sockets)
	d := func(k string) float64 { return after[k] - before[k] }
	r.add("node goroutines per socket", d("go_goroutines")/n, "")
	r.add("node heap in use per socket", d("go_memstats_heap_inuse_bytes")/n/1024, "KiB")
	r.add("node stacks per socket", d("go_memstats_stack_inuse_bytes")/n/1024, "KiB")
	r.add("node heap objects per socket", d("go_memstats_heap_objects")/n, "")
}

// addWriteBatching reports frames per socket write, bytes written per delivery and slow-consumer
// drops between snapshots.
func (r *result) addWriteBatching(before, after promSnapshot, delivered int64) {
	if before == nil || after == nil {
		return
	}
	writes := after["realtime_socket_write_batch_frames_count"] - before["realtime_socket_write_batch_frames_count"]
	frames := after["realtime_socket_write_batch_frames_sum"] - before["realtime_socket_write_batch_frames_sum"]
	if writes > 0 {
		r.add("node frames per socket write", frames/writes, "")
	}
	if out := after["realtime_channel_global_output_bytes"] - before["realtime_channel_global_output_bytes"]; out > 0 && delivered > 0 {
		r.add("node bytes written per delivery", out/float64(delivered), "B")
	}
	if drops := after["realtime_slow_consumer_disconnects_total"] - before["realtime_slow_consumer_disconnects_total"]; drops > 0 {
		r.add("node slow-consumer disconnects", drops, "")
	}
}

// scrapeOrNil is scrapeMetrics for optional diagnostics.
func scrapeOrNil(addr string) promSnapshot {
	if addr == "" {
		return nil
	}
	s, err := scrapeMetrics(addr)
	if err != nil {
		return nil
	}
	return s
}
