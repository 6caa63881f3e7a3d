//go:build linux

// Package clusterrtt runs realtime-node processes in network namespaces with real latency
// between regions, so placement by measured round-trip time meets real delays.
//
// The machines' kernel has no sch_netem, so the delay is a userspace delay line
// (internal/delayline) instead of tc netem: every leaf (a node or a database) is a namespace
// whose only interface is a TUN device held by the test process; the process reads each IPv4 packet a leaf sends, and writes it into the destination leaf's TUN after
// the one-way delay between their regions (plus jitter, plus any Extra on either leaf). The
// kernel's TCP stacks see real round trips (a SYN waits for its SYN-ACK the full RTT), and
// packets of one direction of one pair keep their order. The test process reaches every leaf
// through one more TUN in the root namespace (region "root", no delay).
package clusterrtt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/realtimeops/realtime/internal/delayline"
)

// Lab is one topology; every namespace and interface it creates carries its id, so concurrent
// runs never meet, and Close removes them all.
type Lab struct {
	id      string
	net16   string // e.g. "10.217"
	regions map[string]int
	oneWay  map[[2]string]time.Duration
	jitter  time.Duration
	rootDev string

	mu     sync.Mutex
	leaves map[string]*Leaf
	byIP   map[[4]byte]*Leaf
	extra  map[string]time.Duration
	lines  map[[2]*Leaf]*delayline.Line
	closed bool
	wg     sync.WaitGroup
}

// Leaf is one namespace with one address.
type Leaf struct {
	Name, Region, NS, IP string
	tun                  *os.File
}

func run(args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// NewLab creates the root leaf. regions maps region -> third octet of its /24; rtt gives the
// round-trip time between two regions (half of it each way).
func NewLab(regions map[string]int, rtt map[[2]string]time.Duration, jitter time.Duration) (*Lab, error) {
	id := fmt.Sprintf("%x", os.Getpid()) // the whole PID: removeStale checks it
	l := &Lab{id: id, regions: map[string]int{"root": 0}, oneWay: map[[2]string]time.Duration{}, jitter: jitter,
		leaves: map[string]*Leaf{}, byIP: map[[4]byte]*Leaf{}, extra: map[string]time.Duration{},
		lines: map[[2]*Leaf]*delayline.Line{}, rootDev: "rtt17r" + id}
	for r, o := range regions {
		l.regions[r] = o
	}
	for k, d := range rtt {
		l.oneWay[k] = d / 2
		l.oneWay[[2]string{k[1], k[0]}] = d / 2
	}
	removeStale()
	var err error
	if l.net16, err = freeNet16(); err != nil {
		return nil, err
	}
	if _, err := l.addLeaf("root", "root", 1, "", l.rootDev); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// removeStale deletes the namespaces of earlier labs whose process is gone (a test binary killed
// by a timeout never runs Close). Names are rtt17-<pid in hex>-<leaf>; a live PID is left alone.
func removeStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, "rtt17-")
		if !ok {
			continue
		}
		hex, _, ok := strings.Cut(rest, "-")
		var pid int
		if _, err := fmt.Sscanf(hex, "%x", &pid); !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // that run is alive
		}
		_ = run("ip", "netns", "del", name)
	}
}

// RootIP is the test process's address in the lab.
func (l *Lab) RootIP() string { return l.net16 + ".0.1" }

// freeNet16 picks 10.x.0.0/16 (x in 200..249) that no route of the root namespace mentions.
func freeNet16() (string, error) {
	out, err := exec.Command("ip", "-4", "route", "show").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ip route: %w: %s", err, out)
	}
	start := os.Getpid() % 50
	for i := 0; i < 50; i++ {
		n := fmt.Sprintf("10.%d", 200+(start+i)%50)
		if !strings.Contains(string(out), n+".") {
			return n, nil
		}
	}
	return "", fmt.Errorf("no free 10.x.0.0/16 for the lab")
}

// AddLeaf creates namespace name in region with the given last address octet.
func (l *Lab) AddLeaf(name, region string, host int) (*Leaf, error) {
	return l.addLeaf(name, region, host, "rtt17-"+l.id+"-"+name, "tun0")
}

func (l *Lab) addLeaf(name, region string, host int, ns, dev string) (*Leaf, error) {
	oct, ok := l.regions[region]
	if !ok {
		return nil, fmt.Errorf("unknown region %q", region)
	}
	lf := &Leaf{Name: name, Region: region, NS: ns, IP: fmt.Sprintf("%s.%d.%d", l.net16, oct, host)}
	ipn := func(args ...string) []string {
		if ns == "" {
			return append([]string{"ip"}, args...)
		}
		return append([]string{"ip", "-n", ns}, args...)
	}
	if ns != "" {
		if err := run("ip", "netns", "add", ns); err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.leaves[name] = lf // from here on Close removes the namespace
		l.mu.Unlock()
		if err := run(ipn("link", "set", "lo", "up")...); err != nil {
			return nil, err
		}
	}
	nsPath := ""
	if ns != "" {
		nsPath = "/var/run/netns/" + ns
	}
	f, err := delayline.OpenTUN(nsPath, dev)
	if err != nil {
		return nil, err
	}
	lf.tun = f
	for _, s := range [][]string{ipn("addr", "add", lf.IP+"/16", "dev", dev), ipn("link", "set", dev, "up")} {
		if err := run(s...); err != nil {
			f.Close()
			return nil, err
		}
	}
	var key [4]byte
	copy(key[:], net.ParseIP(lf.IP).To4())
	l.mu.Lock()
	l.leaves[name] = lf
	l.byIP[key] = lf
	l.mu.Unlock()
	l.wg.Add(1)
	go l.readLoop(lf)
	return lf, nil
}

// readLoop moves every IPv4 packet lf sends onto the delay line to its destination.
func (l *Lab) readLoop(lf *Leaf) {
	defer l.wg.Done()
	_ = delayline.ReadIPv4(lf.tun, func(pkt []byte) { // ends when Close closes the TUN
		dst := delayline.Dst(pkt)
		l.mu.Lock()
		to := l.byIP[dst]
		if to == nil || l.closed {
			l.mu.Unlock()
			return
		}
		d := l.oneWay[[2]string{lf.Region, to.Region}] + l.extra[lf.Name] + l.extra[to.Name]
		if d > 0 && l.jitter > 0 && lf.Region != to.Region {
			d += time.Duration((rand.Float64()*2 - 1) * float64(l.jitter))
		}
		line := l.lineLocked(lf, to)
		l.mu.Unlock()
		_ = line.Send(pkt, time.Now().Add(d)) // ErrClosed: the lab is closing
	})
}

// lineLocked is the FIFO from one leaf to another (delayline.Line).
func (l *Lab) lineLocked(from, to *Leaf) *delayline.Line {
	k := [2]*Leaf{from, to}
	if ln := l.lines[k]; ln != nil {
		return ln
	}
	ln := delayline.NewLine(to.tun)
	l.lines[k] = ln
	return ln
}

// Extra adds d (0 removes it) to every packet to or from leaf: each round trip through it grows
// by 2d; use d/2 for "d more RTT".
func (l *Lab) Extra(leaf string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.extra[leaf] = d
}

// Command runs a program inside leaf's namespace (ip netns exec replaces itself with it, so the
// PID is the program's).
func (l *Lab) Command(leaf, prog string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", l.leaf(leaf).NS, prog}, args...)...)
}

func (l *Lab) leaf(name string) *Leaf {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leaves[name]
}

// ListenIn opens a TCP listener whose socket lives in leaf's namespace (see delayline.OpenTUN).
func (l *Lab) ListenIn(leaf string, port int) (net.Listener, error) {
	lf := l.leaf(leaf)
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		if err := delayline.Enter("/var/run/netns/" + lf.NS); err != nil {
			ch <- res{err: err}
			return
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(lf.IP, fmt.Sprint(port)))
		ch <- res{ln, err}
	}()
	r := <-ch
	return r.ln, r.err
}

// Close stops the delay line and removes every namespace and TUN device it created.
func (l *Lab) Close() {
	l.mu.Lock()
	l.closed = true
	leaves := make([]*Leaf, 0, len(l.leaves))
	for _, lf := range l.leaves {
		leaves = append(leaves, lf)
	}
	lines := make([]*delayline.Line, 0, len(l.lines))
	for k, ln := range l.lines {
		lines = append(lines, ln)
		delete(l.lines, k)
	}
	l.mu.Unlock()
	for _, lf := range leaves {
		if lf.tun != nil {
			lf.tun.Close() // ends its readLoop; a non-persistent TUN goes with its last fd
		}
		if lf.NS != "" {
			_ = run("ip", "netns", "del", lf.NS)
		}
	}
	for _, ln := range lines {
		ln.Close() // writes to the closed TUNs fail at once
	}
	l.wg.Wait()
}
