// Command chart-crds regenerates the CRD templates of the Helm chart from config/crd/bases
// (`make chart-crds`). The no-diff test in test/helm fails when they are out of date.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/realtimeops/realtime/test/helm/chartcrds"
)

func main() {
	src := flag.String("src", "config/crd/bases", "directory of the controller-gen CRDs")
	dst := flag.String("dst", "charts/realtime-operator/templates/crds", "directory of the chart's CRD templates")
	flag.Parse()
	if err := run(*src, *dst); err != nil {
		fmt.Fprintln(os.Stderr, "chart-crds:", err)
		os.Exit(1)
	}
}

func run(src, dst string) error {
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s (run `make manifests`): %v", src, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		out, err := chartcrds.Wrap(filepath.Base(f), in)
		if err != nil {
			return err
		}
		name := filepath.Base(f)
		want[name] = true
		if err := os.WriteFile(filepath.Join(dst, name), out, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", filepath.Join(dst, name))
	}
	// A CRD removed from config/ must leave the chart too.
	old, _ := filepath.Glob(filepath.Join(dst, "*.yaml"))
	for _, f := range old {
		if !want[filepath.Base(f)] && strings.HasSuffix(f, ".yaml") {
			if err := os.Remove(f); err != nil {
				return err
			}
			fmt.Println("removed", f)
		}
	}
	return nil
}
