package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/controllers"
	"github.com/realtimeops/realtime/internal/envtestbin"
)

// Two operator replicas with the manager settings of main (leader election on, as the chart
// forces with replicaCount > 1): only one is elected and runs the controllers; when it stops,
// it releases the Lease and the other takes over without waiting for the lease to expire.
func TestOnlyOneReplicaReconciles(t *testing.T) {
	dir, err := envtestbin.Dir()
	if err != nil {
		t.Fatal(err)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: dir, ErrorIfCRDPathMissing: true,
		CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctrl.SetLogger(logr.Discard())
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = realtimev1.AddToScheme(scheme)
	o := options{metricsAddr: "0", probeAddr: "0", leaderElect: true, leaderElectionNamespace: "default"}
	type replica struct {
		mgr    ctrl.Manager
		cancel context.CancelFunc
		done   chan struct{}
	}
	start := func() *replica {
		opts := managerOptions(o, scheme)
		skip := true // two managers in one process register the same controller names
		opts.Controller.SkipNameValidation = &skip
		mgr, err := ctrl.NewManager(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := controllers.SetupWithOptions(mgr, controllers.Options{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &replica{mgr: mgr, cancel: cancel, done: make(chan struct{})}
		go func() { defer close(r.done); _ = mgr.Start(ctx) }()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}
	elected := func(r *replica) bool {
		select {
		case <-r.mgr.Elected():
			return true
		default:
			return false
		}
	}
	a, b := start(), start()
	deadline := time.Now().Add(30 * time.Second)
	for !elected(a) && !elected(b) {
		if time.Now().After(deadline) {
			t.Fatal("no replica elected")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a second leader would show up by now
	if elected(a) == elected(b) {
		t.Fatalf("elected: a=%v b=%v, want exactly one", elected(a), elected(b))
	}
	leader, follower := a, b
	if elected(b) {
		leader, follower = b, a
	}
	t0 := time.Now()
	leader.cancel()
	<-leader.done
	for !elected(follower) {
		if time.Since(t0) > 10*time.Second { // the lease lasts 15 s: a release is faster
			t.Fatal("the other replica did not take over after the leader released the Lease")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("takeover %s after the leader stopped", time.Since(t0).Round(time.Millisecond))
}
