package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metricValue returns the value of the series line starting with series (name{labels}).
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

// waitMetric polls the registry until pred holds for the series' value.
func (h *harness) waitMetric(series string, pred func(float64) bool) float64 {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v := metricValue(h.t, h.metrics(), series)
		if pred(v) {
			return v
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s = %v", series, v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Upstream: prom_ex/plugins/tenant.ex realtime_connections_connected, realtime_channel_input_bytes,
// realtime_channel_output_bytes (tag tenant).
func TestPerTenantConnectionAndTrafficMetrics(t *testing.T) {
	h := newHarness(t)
	c := h.dial("2.0.0")
	join := `["1","1","realtime:m","phx_join",{"config":{}}]`
	c.send(join)
	c.expect(`"ok"`)
	h.waitMetric(`realtime_connections_connected{tenant="dev"}`, func(v float64) bool { return v == 1 })
	h.waitMetric(`realtime_connections_connected_cluster{tenant="dev"}`, func(v float64) bool { return v == 1 })
	h.waitMetric(`realtime_channel_input_bytes{tenant="dev"}`, func(v float64) bool { return v >= float64(len(join)) })
	h.waitMetric(`realtime_channel_output_bytes{tenant="dev"}`, func(v float64) bool { return v > 0 })
	c.send(`["1","2","realtime:m","phx_leave",{}]`)
	c.expect(`phx_close`)
	h.waitMetric(`realtime_connections_connected{tenant="dev"}`, func(v float64) bool { return v == 0 })
}

var countLine = regexp.MustCompile(`(?m)^(realtime_tenants_\w+)_count\{tenant="dev"\} (\d+)$`)

// histogramCounts maps realtime_tenants_* histogram names to their observation counts.
func histogramCounts(body string) map[string]int {
	out := map[string]int{}
	for _, m := range countLine.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	return out
}
