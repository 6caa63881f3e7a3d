package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// capture saves the spawned node's CPU profile (and, with --trace, a runtime/trace) over the next
// dur into --profile's directory, named after the window. The returned function waits for the
// files; without --profile or a debug listener it does nothing.
func capture(tg *target, cfg *config, window string, dur time.Duration) func() {
	if cfg.profileDir == "" || tg.debugAddr == "" {
		return func() {}
	}
	if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
		slog.Warn("profile directory", "err", err)
		return func() {}
	}
	secs := max(1, int(dur.Round(time.Second)/time.Second))
	base := filepath.Join(cfg.profileDir, fileName(window))
	var wg sync.WaitGroup
	get := func(path, file string) {
		defer wg.Done()
		if err := fetchTo(fmt.Sprintf("http://%s%s?seconds=%d", tg.debugAddr, path, secs), file, dur); err != nil {
			slog.Warn("profile", "file", file, "err", err)
		}
	}
	wg.Add(1)
	go get("/debug/pprof/profile", base+".cpu.pprof")
	if cfg.trace {
		wg.Add(1)
		go get("/debug/pprof/trace", base+".trace")
	}
	return wg.Wait
}

func fetchTo(url, file string, dur time.Duration) error {
	hc := &http.Client{Timeout: dur + 30*time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("create %s: %w", file, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	return f.Close()
}

func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// saveSnapshot saves one pprof profile of the spawned node (heap, goroutine) into --profile's
// directory; without --profile it does nothing.
func saveSnapshot(tg *target, cfg *config, window, profile string) {
	if cfg.profileDir == "" || tg.debugAddr == "" {
		return
	}
	if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
		slog.Warn("profile directory", "err", err)
		return
	}
	file := filepath.Join(cfg.profileDir, fileName(window)+"."+profile+".pprof")
	if err := fetchTo(fmt.Sprintf("http://%s/debug/pprof/%s", tg.debugAddr, profile), file, 0); err != nil {
		slog.Warn("profile", "file", file, "err", err)
	}
}
