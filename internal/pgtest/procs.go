package pgtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The postmaster runs under runuser and puts itself in a new session, so signalling runuser's
// process group does not reach it. These helpers find the server's processes from postmaster.pid
// and /proc, so Stop and Kill act on the real server.

// postmasterPID reads the first line of the data directory's postmaster.pid.
func (i *Instance) postmasterPID() int {
	f, err := os.Open(filepath.Join(i.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(sc.Text()))
	return pid
}

// serverPIDs returns the postmaster and its live children.
func (i *Instance) serverPIDs() []int {
	pm := i.postmasterPID()
	if pm <= 0 {
		return nil
	}
	pids := []int{pm}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state := procStat(pid); ppid == pm && state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat returns the parent pid and state of pid ('Z' = zombie, 0 = gone).
func procStat(pid int) (ppid int, state byte) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 || end+4 > len(s) {
		return 0, 0
	}
	fields := strings.Fields(s[end+2:])
	if len(fields) < 2 {
		return 0, 0
	}
	ppid, _ = strconv.Atoi(fields[1])
	return ppid, fields[0][0]
}

// signalServer sends sig to the postmaster (and, for SIGKILL, to every backend) and waits until
// they have exited (or are zombies, which hold no shared memory), up to timeout.
func (i *Instance) signalServer(sig syscall.Signal, timeout time.Duration) bool {
	pids := i.serverPIDs()
	if len(pids) == 0 {
		return true
	}
	targets := pids[:1]
	if sig == syscall.SIGKILL {
		targets = pids
	}
	for _, pid := range targets {
		_ = syscall.Kill(pid, sig)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		alive := false
		for _, pid := range pids {
			if _, st := procStat(pid); st != 0 && st != 'Z' {
				alive = true
			}
		}
		if !alive {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
