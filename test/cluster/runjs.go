package clustertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/realtimeops/realtime/test/conformance"
)

// RunJS runs one scenario file of js/ with `node --test` and env (KEY=VALUE) and reports each
// top-level scenario as a Go subtest carrying the assertion and the realtime-js frame dumps.
// realtime-js comes from test/conformance/node_modules (`make conformance-deps`); the scenarios
// reach it through that suite's js/lib helpers, whose imports resolve from their own directory.
func RunJS(t *testing.T, file string, env []string, timeout time.Duration) {
	t.Helper()
	root, err := conformance.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "test", "conformance", "node_modules", "@supabase", "realtime-js")); err != nil {
		t.Fatalf("realtime-js is not installed in test/conformance/node_modules: run `make conformance-deps`")
	}
	tap := filepath.Join(t.TempDir(), "out.tap")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// --test-force-exit: realtime-js's disconnect() leaves an uncleared 10 s timer (its
	// socketAdapter races the close against setTimeout), which would hold every run 10 s longer.
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-concurrency=1", "--test-force-exit",
		"--test-reporter=spec", "--test-reporter-destination=stdout",
		"--test-reporter=tap", "--test-reporter-destination="+tap,
		filepath.Join("js", file))
	cmd.Dir = filepath.Join(root, "test", "cluster")
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, runErr := cmd.CombinedOutput()

	results, parseErr := conformance.ParseTAP(tap)
	if parseErr != nil || len(results) == 0 {
		t.Fatalf("node --test %s: %v (tap: %v)\n%s", file, runErr, parseErr, out)
	}
	for _, r := range results {
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
	if testing.Verbose() {
		t.Logf("node --test %s:\n%s", file, out)
	}
}
