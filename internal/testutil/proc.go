package testutil

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Proc is a started child process. It is signalled by its own PID, never by name, so a test stops
// only what it started.
type Proc struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts cmd and reaps it when it exits.
func Start(cmd *exec.Cmd) (*Proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited and was reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the process's exit error; valid once Done is closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process unless it has exited.
func (p *Proc) Signal(sig syscall.Signal) {
	if !p.Exited() {
		_ = p.Cmd.Process.Signal(sig)
	}
}

// Stop sends SIGTERM, then SIGKILL once grace has passed, and waits until the process is gone.
// Safe to call when it has exited already.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits until it is gone.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// StartLogged starts cmd with its output collected in the returned buffer and stops it (Stop
// with grace) when the test ends, printing the output when the test failed. A start failure
// fails the test.
func StartLogged(t testing.TB, name string, cmd *exec.Cmd, grace time.Duration) (*Proc, *LockedBuffer) {
	t.Helper()
	logs := &LockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	p, err := Start(cmd)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		p.Stop(grace)
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, logs.String())
		}
	})
	return p, logs
}
