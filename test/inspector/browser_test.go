package inspector

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/realtimeops/realtime/test/conformance"
)

// findBrowser returns the Chromium to drive: $CHROMIUM_BIN, else chromium (Debian's package,
// which `make test` installs through mk/inspector.mk) or chromium-browser on PATH.
func findBrowser() string {
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts a headless Chromium with its own profile for the test and returns a tab. Under
// `make test` (REALTIME_BROWSER_REQUIRED=1) a missing browser fails the test; a plain `go test`
// skips it and says how to install one.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := findBrowser()
	if path == "" {
		if os.Getenv("REALTIME_BROWSER_REQUIRED") == "1" {
			t.Fatal("no chromium on PATH (and CHROMIUM_BIN unset): `make chromium` installs Debian's package")
		}
		t.Skip("no chromium on PATH: run `make chromium` (or `make test`, which fails instead of skipping)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // ends the browser process chromedp started
	})
	// Start the browser now, so its start-up is not charged to the first assertion.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// page drives one tab of the inspector and keeps the deadline of every wait.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v\npage log:\n%s", what, err, p.logText())
	}
}

func (p *page) eval(expr string) (bool, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
}

// waitFor polls a JavaScript predicate on the page until it holds or timeout passes.
func (p *page) waitFor(what, expr string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := p.eval(expr)
		if err == nil && ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not seen within %s (last error: %v)\npage log:\n%s", what, timeout, last, p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logHas is a predicate: a log entry of kind whose text contains text.
func logHas(kind, text string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll('#log .entry[data-kind=%s]')).some((e) => e.textContent.includes(%s))`,
		strconv.Quote(kind), strconv.Quote(text))
}

// textOf is a predicate: the element with id contains text.
func textOf(id, text string) string {
	return fmt.Sprintf(`(document.getElementById(%s)?.textContent ?? '').includes(%s)`, strconv.Quote(id), strconv.Quote(text))
}

func (p *page) logText() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('log')?.innerText ?? document.body.innerText`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// screenshot writes a full-page PNG into the artifacts directory and logs its path.
func (p *page) screenshot(dir, name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatalf("write screenshot: %v", err)
	}
	p.t.Logf("screenshot: %s", path)
	return path
}

// artifactsDir is $INSPECTOR_ARTIFACTS, else bin/test-artifacts/inspector in the repository
// (kept after the test, ignored by git), so the screenshots can be looked at.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("INSPECTOR_ARTIFACTS")
	if dir == "" {
		root, err := conformance.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "bin", "test-artifacts", "inspector")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}
