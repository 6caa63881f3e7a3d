// Package testutil holds the helpers the repository's tests share: polling for a condition with a
// deadline, free loopback ports, child processes stopped by their own PID, and a buffer for their
// output.
package testutil

import (
	"testing"
	"time"
)

// PollInterval is how often Eventually and EventuallyNil check their condition.
const PollInterval = 10 * time.Millisecond

// Eventually checks cond every PollInterval until it holds, and fails the test once timeout has
// passed without it, naming what it waited for. The deadline bounds a wait for an event; it is
// not a performance assertion (those go in benchmarks).
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(PollInterval)
	}
}

// EventuallyNil is Eventually for a check that says why it does not hold yet: the failure message
// carries the last error.
func EventuallyNil(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(PollInterval)
	}
}
