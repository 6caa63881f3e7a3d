package e2e

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/realtimeops/realtime/controllers"
)

// startOperator runs the operator in-process against the simulated cluster, wired as
// cmd/realtime-operator wires it (controllers.CacheOptions + controllers.Setup), without leader
// election, metrics or probe listeners. Its JSON log goes to logs/operator.log in the work dir.
// Cleanup stops the manager and waits for it.
func (c *simCluster) startOperator() {
	t := c.t
	t.Helper()
	logPath := filepath.Join(c.dir, "logs", "operator.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	handler := slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})
	logger := logr.FromSlogHandler(handler)
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)

	mgr, err := ctrl.NewManager(c.cfg, ctrl.Options{
		Scheme:                 c.scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
		Cache:                  controllers.CacheOptions(""),
	})
	if err != nil {
		t.Fatalf("operator manager: %v", err)
	}
	// The finalizer's slot drop targets a database that does not exist: keep its bound short.
	if err := controllers.Setup(mgr, 3*time.Second); err != nil {
		t.Fatalf("operator setup: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("operator manager: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("operator manager did not stop within 30s")
		}
		_ = f.Close()
	})
	c.mu.Lock()
	c.operatorLog = logPath
	c.mu.Unlock()
	c.opClient = mgr.GetClient()
	t.Logf("operator: started in-process (log %s)", logPath)
}
