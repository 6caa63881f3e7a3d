package testutil

import (
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeT records Fatalf instead of ending the test, so the failure message can be checked.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = "failed"
	panic(fatal{})
}

type fatal struct{}

func runFake(fn func(t testing.TB)) (msg string) {
	f := &fakeT{}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatal); !ok {
				panic(r)
			}
		}
		msg = f.msg
	}()
	fn(f)
	return ""
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, time.Minute, "third call", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("cond called %d times", n)
	}
	if msg := runFake(func(ft testing.TB) { Eventually(ft, 0, "never", func() bool { return false }) }); msg == "" {
		t.Fatal("Eventually did not fail on a condition that never holds")
	}
	if msg := runFake(func(ft testing.TB) {
		EventuallyNil(ft, 0, "never", func() error { return errors.New("still not") })
	}); msg == "" {
		t.Fatal("EventuallyNil did not fail on a check that never passes")
	}
}

func TestFreePorts(t *testing.T) {
	ports := MustFreePorts(t, "", 3)
	if len(ports) != 3 || ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Fatalf("ports = %v", ports)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])))
	if err != nil {
		t.Fatalf("port %d is not free: %v", ports[0], err)
	}
	_ = l.Close()
}

func TestProcStopAndKill(t *testing.T) {
	p, err := Start(exec.Command("sleep", "60"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatal("exited at once")
	}
	p.Stop(5 * time.Second)
	if !p.Exited() || p.Err() == nil {
		t.Fatalf("after Stop: exited %v err %v", p.Exited(), p.Err())
	}
	p.Stop(time.Second) // a second Stop is a no-op
	// A process that ignores SIGTERM is killed after the grace period.
	p, err = Start(exec.Command("sh", "-c", "trap '' TERM; exec sleep 60"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let sh install its trap (not an assertion)
	p.Stop(200 * time.Millisecond)
	if !p.Exited() {
		t.Fatal("still running after Stop")
	}
}

// StartLogged collects both output streams and stops the process when its test ends.
func TestStartLoggedStopsAtCleanup(t *testing.T) {
	var p *Proc
	t.Run("child", func(t *testing.T) {
		var logs *LockedBuffer
		p, logs = StartLogged(t, "sh", exec.Command("sh", "-c", "echo out; echo err >&2; exec sleep 60"), 5*time.Second)
		Eventually(t, 5*time.Second, "both streams in the log", func() bool {
			s := logs.String()
			return strings.Contains(s, "out\n") && strings.Contains(s, "err\n")
		})
	})
	if !p.Exited() {
		t.Fatal("the process outlived its test")
	}
}
