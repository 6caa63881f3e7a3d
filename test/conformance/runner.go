package conformance

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// JSResult is the outcome of one top-level node:test test (one scenario).
type JSResult struct {
	Name   string
	OK     bool
	Skip   bool
	Detail string // the TAP YAML block: error message, frame dumps, location
}

// RunJS runs one scenario file under js/ with `node --test` and the given environment
// (KEY=VALUE), then reports each scenario as a Go subtest, so `go test -v` shows pass/fail per
// scenario and a failure carries the assertion message and the recorded frames.
func RunJS(t *testing.T, file string, env []string, timeout time.Duration) {
	t.Helper()
	dir, err := SuiteDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@supabase", "realtime-js")); err != nil {
		t.Fatalf("realtime-js is not installed in %s/node_modules: run `make conformance-deps` "+
			"(npm ci --no-audit --no-fund in test/conformance)", dir)
	}
	tap := filepath.Join(t.TempDir(), "out.tap")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// --test-force-exit: realtime-js's disconnect() leaves a 10 s timer running, which would hold
	// every file's process 10 s after its last scenario.
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-force-exit", "--test-concurrency=1",
		"--test-reporter=spec", "--test-reporter-destination=stdout",
		"--test-reporter=tap", "--test-reporter-destination="+tap,
		filepath.Join("js", file))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, runErr := cmd.CombinedOutput()

	results, parseErr := ParseTAP(tap)
	if parseErr != nil || len(results) == 0 {
		t.Fatalf("node --test %s: %v (tap: %v)\n%s", file, runErr, parseErr, out)
	}
	for _, r := range results {
		r := r
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Skip:
				t.Skip(r.Detail)
			case !r.OK:
				t.Errorf("scenario failed:\n%s", r.Detail)
			}
		})
	}
	if runErr != nil && !t.Failed() {
		t.Fatalf("node --test %s exited with %v although every scenario passed:\n%s", file, runErr, out)
	}
}

// SuiteDir is test/conformance in the repository.
func SuiteDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "test", "conformance"), nil
}

var tapLine = regexp.MustCompile(`^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO).*)?$`)

// ParseTAP reads the top-level results (no indentation) of Node's TAP reporter, each with the
// YAML diagnostics block that follows it.
func ParseTAP(path string) ([]JSResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open tap output: %w", err)
	}
	defer f.Close()
	var (
		res   []JSResult
		cur   *JSResult
		inDoc bool
		doc   strings.Builder
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := tapLine.FindStringSubmatch(line); m != nil {
			res = append(res, JSResult{Name: unescapeTAP(m[2]), OK: m[1] == "ok", Skip: m[3] == "SKIP"})
			cur = &res[len(res)-1]
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case line == "  ---":
			inDoc = true
			doc.Reset()
		case line == "  ...":
			inDoc = false
			cur.Detail = doc.String()
		case inDoc:
			doc.WriteString(strings.TrimPrefix(line, "  "))
			doc.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read tap output: %w", err)
	}
	return res, nil
}

func unescapeTAP(s string) string {
	return strings.NewReplacer(`\#`, "#", `\\`, `\`).Replace(s)
}
