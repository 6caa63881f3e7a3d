// Command realtime-operator runs the RealtimeCluster and Tenant controllers.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
	"github.com/realtimeops/realtime/controllers"
)

type options struct {
	metricsAddr, probeAddr, watchNamespaces, logLevel, nodeImage string
	leaderElect                                                  bool
	slotDropTimeout, healthInterval                              time.Duration
	// leaderElectionNamespace is where the Lease lives (the pod's namespace when empty).
	leaderElectionNamespace string
}

func main() {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "address of the metrics endpoint (0 disables it)")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	flag.BoolVar(&o.leaderElect, "leader-elect", true, "use a Lease so only one replica reconciles")
	flag.StringVar(&o.watchNamespaces, "watch-namespaces", "", "comma-separated namespaces to watch (empty: all)")
	flag.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	flag.DurationVar(&o.slotDropTimeout, "slot-drop-timeout", controllers.DefaultSlotDropTimeout,
		"bound of the finalizer's replication slot drop")
	flag.DurationVar(&o.healthInterval, "tenant-health-interval", controllers.DefaultHealthInterval,
		"how often each tenant's database and replication slot are checked (each check of a busy tenant costs one status write)")
	flag.StringVar(&o.nodeImage, "node-image", realtimev1.DefaultNodeImage(),
		"node image of RealtimeClusters without spec.image")
	flag.Parse()
	if err := run(o); err != nil {
		slog.Error("operator stopped", "err", err)
		os.Exit(1)
	}
}

func run(o options) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	handler := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	slog.SetDefault(slog.New(handler))
	logger := logr.FromSlogHandler(handler)
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := realtimev1.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), managerOptions(o, scheme))
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := controllers.SetupWithOptions(mgr, controllers.Options{
		SlotDropTimeout: o.slotDropTimeout, NodeImage: o.nodeImage, HealthInterval: o.healthInterval,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	slog.Info("starting realtime-operator", "version", realtimev1.Version, "watchNamespaces", o.watchNamespaces, "nodeImage", o.nodeImage)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// LeaderElectionID names the Lease the operator's replicas elect a leader with.
const LeaderElectionID = "realtime-operator.realtime.realtimeops.io"

// managerOptions are the manager's settings. With leader election only the elected replica runs
// the controllers; it releases the Lease when it stops, so a rollout hands over at once instead
// of after the lease duration.
func managerOptions(o options, scheme *runtime.Scheme) ctrl.Options {
	return ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:        o.probeAddr,
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(o.watchNamespaces),
	}
}
