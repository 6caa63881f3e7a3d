package clustertest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a fault-injecting TCP proxy put on one cluster link (node A's --cluster-peers entry
// for node B points at it). While partitioned it behaves like a network that silently drops
// packets: nothing is forwarded in either direction and new connections are accepted but go
// nowhere, and no FIN or RST reaches either node, so the nodes must notice the partition
// through their own keep-alives, as they would in a real one. Heal closes every connection that
// lived through the partition (their byte streams have holes) and forwards new ones again.
type Proxy struct {
	Addr   string // where nodes connect
	target string

	ln     net.Listener
	wg     sync.WaitGroup
	cut    atomic.Bool
	mu     sync.Mutex
	live   map[*proxyLink]struct{}
	closed bool
	// Accepted counts accepted connections (for diagnostics).
	Accepted atomic.Int64
}

type proxyLink struct {
	client, upstream net.Conn // upstream is nil for a connection accepted while partitioned
	cut              atomic.Bool
	once             sync.Once
}

func (l *proxyLink) close() {
	l.once.Do(func() {
		_ = l.client.Close()
		if l.upstream != nil {
			_ = l.upstream.Close()
		}
	})
}

// StartProxy listens on ip (free port) and forwards to target until the test ends.
func StartProxy(t testing.TB, ip, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("proxy listen on %s: %v", ip, err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, live: map[*proxyLink]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.Close)
	return p
}

// Partition stops all traffic through the proxy.
func (p *Proxy) Partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut.Store(true)
	for l := range p.live {
		l.cut.Store(true)
	}
}

// Heal closes the connections that saw the partition and forwards new connections again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut.Store(false)
	for l := range p.live {
		if l.cut.Load() {
			l.close()
			delete(p.live, l)
		}
	}
}

// Close stops the proxy and every connection through it.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for l := range p.live {
		l.close()
	}
	p.live = map[*proxyLink]struct{}{}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		p.Accepted.Add(1)
		l := &proxyLink{client: c}
		if !p.cut.Load() {
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close() // like a refused connection: the node will redial
				continue
			}
			l.upstream = up
		}
		if !p.track(l) {
			return
		}
		p.wg.Add(1)
		go p.pipe(l, l.upstream, l.client)
		if l.upstream != nil {
			p.wg.Add(1)
			go p.pipe(l, l.client, l.upstream)
		}
	}
}

// track registers l; a connection accepted while partitioned is cut from the start. Reports
// false when the proxy is closing.
func (p *Proxy) track(l *proxyLink) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		l.close()
		return false
	}
	if p.cut.Load() {
		l.cut.Store(true)
	}
	p.live[l] = struct{}{}
	return true
}

// pipe copies src to dst, dropping the bytes while the link is cut. dst nil means discard.
func (p *Proxy) pipe(l *proxyLink, dst, src net.Conn) {
	defer p.wg.Done()
	defer l.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.cut.Load() && dst != nil {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// String describes the proxy for logs.
func (p *Proxy) String() string {
	return fmt.Sprintf("proxy %s -> %s (cut=%t, accepted=%d)", p.Addr, p.target, p.cut.Load(), p.Accepted.Load())
}
