//go:build linux

// Package delayline is a userspace delay line for IPv4 packets: a process holds TUN devices, reads
// each packet the kernel routes into one of them and writes it into a TUN (the same one or
// another, possibly in another network namespace) after a delay it chooses per packet.
//
// It exists because the machines' kernel has network namespaces and TUN but no sch_netem
// (CONFIG_NET_SCH_NETEM is not set), so `tc qdisc add ... netem delay` is not available. The
// kernels' TCP stacks on both sides see real round trips: a SYN waits for its SYN-ACK the full
// delay both ways. Packets of one Line keep their order (a jittered packet never overtakes the
// one before it), as on one network path. Users: test/clusterrtt (multi-process nodes) and
// hack/delayline (the real cluster of hack/real-cluster.sh).
package delayline

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// OpenTUN creates TUN device dev (IFF_TUN, no packet information header) in the network
// namespace at nsPath ("" for the caller's) and returns its non-blocking fd. The namespace switch
// happens on a locked OS thread that is never unlocked: the Go runtime retires the thread, so no
// other goroutine ever runs in that namespace. The device goes away with its last fd.
func OpenTUN(nsPath, dev string) (*os.File, error) {
	type res struct {
		f   *os.File
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		if nsPath != "" {
			if err := Enter(nsPath); err != nil {
				ch <- res{err: err}
				return
			}
		} else {
			defer runtime.UnlockOSThread()
		}
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{err: fmt.Errorf("open /dev/net/tun: %w", err)}
			return
		}
		ifr, err := unix.NewIfreq(dev)
		if err == nil {
			ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
			err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
		}
		if err == nil {
			err = unix.SetNonblock(fd, true)
		}
		if err != nil {
			_ = unix.Close(fd)
			ch <- res{err: fmt.Errorf("create tun %s in %q: %w", dev, nsPath, err)}
			return
		}
		ch <- res{f: os.NewFile(uintptr(fd), dev)}
	}()
	r := <-ch
	return r.f, r.err
}

// Enter switches the calling OS thread into the network namespace at nsPath; the caller must
// hold runtime.LockOSThread and never unlock it.
func Enter(nsPath string) error {
	f, err := os.Open(nsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %w", nsPath, err)
	}
	return nil
}

// ReadIPv4 calls fn for every IPv4 packet read from tun until a read fails (the device was
// closed); other packets (IPv6 router solicitations and the like) are dropped. pkt is only valid
// during the call.
func ReadIPv4(tun io.Reader, fn func(pkt []byte)) error {
	buf := make([]byte, 65536)
	for {
		n, err := tun.Read(buf)
		if err != nil {
			return fmt.Errorf("read tun: %w", err)
		}
		if n < 20 || buf[0]>>4 != 4 {
			continue
		}
		fn(buf[:n])
	}
}

// Src and Dst are an IPv4 packet's addresses (pkt has at least 20 bytes).
func Src(pkt []byte) [4]byte { return [4]byte(pkt[12:16]) }

// Dst is the destination address of an IPv4 packet.
func Dst(pkt []byte) [4]byte { return [4]byte(pkt[16:20]) }

type packet struct {
	due time.Time
	b   []byte
}

// Line is a FIFO towards one writer (a TUN): one goroutine writes its packets in order, each no
// earlier than its due time.
type Line struct {
	mu     sync.Mutex
	ch     chan packet
	closed bool
	done   chan struct{}
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("delay line closed")

// NewLine starts the line's goroutine, which ends after Close once the queued packets are written
// (or dropped, when a write fails).
func NewLine(w io.Writer) *Line {
	l := &Line{ch: make(chan packet, 4096), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for p := range l.ch {
			if d := time.Until(p.due); d > 0 {
				time.Sleep(d)
			}
			_, _ = w.Write(p.b) // a full or vanished TUN drops the packet, as a link would
		}
	}()
	return l
}

// Send queues a copy of pkt for delivery at due; it blocks while 4096 packets are queued.
func (l *Line) Send(pkt []byte, due time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.ch <- packet{due: due, b: append([]byte(nil), pkt...)}
	return nil
}

// Close stops accepting packets and waits until the queued ones are written.
func (l *Line) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.ch)
	}
	l.mu.Unlock()
	<-l.done
}
