// Package envtestbin locates the kube-apiserver and etcd binaries that envtest runs: built from Go
// modules by hack/k8s-test-bins.sh (`make test-bins-envtest`) into a cache outside the repository.
// Missing binaries are an error for the caller to fail on, never a reason to skip.
package envtestbin

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultVersion is the Kubernetes version the Makefile builds.
const DefaultVersion = "v1.37.2"

// Dir returns $KUBEBUILDER_ASSETS, else the cache the Makefile fills, after checking that etcd and
// kube-apiserver are there.
func Dir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "k8s-test-bins", DefaultVersion)
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("envtest binary %s missing in %s (set KUBEBUILDER_ASSETS or run `make test-bins-envtest`): %w", b, dir, err)
		}
	}
	return dir, nil
}
