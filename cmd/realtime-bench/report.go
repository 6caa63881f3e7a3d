package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// metric is one figure of a scenario, in the order it is printed.
type metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// result is one scenario run (or one step of the saturation scenario).
type result struct {
	Scenario string         `json:"scenario"`
	Params   map[string]any `json:"params,omitempty"`
	Metrics  []metric       `json:"metrics"`
	Notes    []string       `json:"notes,omitempty"`
	Error    string         `json:"error,omitempty"`
}

func (r *result) add(name string, v float64, unit string) {
	r.Metrics = append(r.Metrics, metric{Name: name, Value: v, Unit: unit})
}

func (r *result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// report is the JSON document written with --out.
type report struct {
	StartedAt time.Time `json:"started_at"`
	Host      hostInfo  `json:"host"`
	Server    string    `json:"server"`
	Results   []*result `json:"results"`
}

type hostInfo struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	Kernel    string `json:"kernel,omitempty"`
}

func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func printTable(w io.Writer, rs []*result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tMETRIC\tVALUE\tUNIT")
	for _, r := range rs {
		name := r.Scenario
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\terror\t%s\t\n", name, r.Error)
		}
		for _, m := range r.Metrics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, m.Name, formatValue(m.Value), m.Unit)
			name = ""
		}
		for _, n := range r.Notes {
			fmt.Fprintf(tw, "%s\tnote\t%s\t\n", name, n)
			name = ""
		}
	}
	tw.Flush()
}

func formatValue(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// percentiles of latency samples (microseconds), in milliseconds.
type latencySummary struct {
	N                   int
	P50, P99, P999, Max float64
}

func summarize(us []uint32) latencySummary {
	if len(us) == 0 {
		return latencySummary{}
	}
	s := slices.Clone(us)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q * float64(len(s)-1))
		return float64(s[i]) / 1000
	}
	return latencySummary{N: len(s), P50: at(0.50), P99: at(0.99), P999: at(0.999), Max: float64(s[len(s)-1]) / 1000}
}

func (r *result) addLatency(prefix string, l latencySummary) {
	if l.N == 0 {
		r.note("no %s latency samples", prefix)
		return
	}
	r.add(prefix+" p50", l.P50, "ms")
	r.add(prefix+" p99", l.P99, "ms")
	r.add(prefix+" p99.9", l.P999, "ms")
	r.add(prefix+" max", l.Max, "ms")
}

// kernelRelease is informational only.
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
