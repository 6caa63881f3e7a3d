package kube

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/realtimeops/realtime/internal/envtestbin"
)

// The tests of this package run against a real kube-apiserver and etcd (envtest) with the
// Tenant CRD from config/crd/bases, shared by every test; each test uses its own namespace.
var (
	restCfg *rest.Config
	kubeCS  kubernetes.Interface
	dynCS   dynamic.Interface
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := envtestbin.Dir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	if restCfg, err = env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start envtest:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}()
	kubeCS = kubernetes.NewForConfigOrDie(restCfg)
	dynCS = dynamic.NewForConfigOrDie(restCfg)
	return m.Run()
}
