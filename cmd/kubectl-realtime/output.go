package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// encode writes v as JSON or YAML (-o).
func (e *env) encode(v any) error {
	if e.output == "yaml" {
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("yaml: %w", err)
		}
		_, err = e.out.Write(b)
		return err
	}
	enc := json.NewEncoder(e.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table { return &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)} }

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() { _ = t.tw.Flush() }

// paint colours status words, only on a terminal (never in pipes, files or with NO_COLOR). Every
// colour adds the same number of bytes, so a painted column stays aligned with itself.
func (e *env) paint(s string) string {
	if !e.color {
		return s
	}
	switch s {
	case "True", "yes", "Ready":
		return "\x1b[32m" + s + "\x1b[0m"
	case "False", "no", "Degraded":
		return "\x1b[31m" + s + "\x1b[0m"
	case "Unknown", "Progressing", "-":
		return "\x1b[33m" + s + "\x1b[0m"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func intOrDash(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

func conditionStatus(cs []metav1.Condition, typ string) string {
	for _, c := range cs {
		if c.Type == typ {
			return string(c.Status)
		}
	}
	return "-"
}
