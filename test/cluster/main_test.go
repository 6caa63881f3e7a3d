package clustertest

import (
	"fmt"
	"os"
	"testing"
)

// nodeBin is the realtime-node binary every test of this package starts.
var nodeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clustertest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	nodeBin, err = BuildNodeBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
