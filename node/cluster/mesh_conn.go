package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

const readBufferSize = 64 << 10

// acceptLoop takes incoming connections until the listener is closed.
func (m *Mesh) acceptLoop(ctx context.Context, ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			m.log.Warn("cluster accept failed", "err", err)
			if !sleepCtx(ctx, 50*time.Millisecond) {
				return
			}
			continue
		}
		m.spawn(func() { m.handleIncoming(ctx, conn) })
	}
}

// handleIncoming authenticates a connection and, when admitted, serves it as a link.
func (m *Mesh) handleIncoming(ctx context.Context, raw net.Conn) {
	conn := raw
	if m.opts.ServerTLS != nil {
		conn = tls.Server(raw, m.opts.ServerTLS)
	}
	br := bufio.NewReaderSize(conn, readBufferSize)
	stop := m.guardSetup(ctx, conn)
	peer, err := acceptHandshake(conn, br, m.self, m.secret)
	if err != nil {
		stop()
		_ = conn.Close()
		m.logRefused(raw.RemoteAddr(), err)
		return
	}
	l := newLink(m.self.Name, peer, conn, br, false)
	ok, prev := false, (*link)(nil)
	// A link dialed by the higher name is refused while we are dialing the peer ourselves
	// (DNS members are dialed before their names are known): ours will be the one kept, and
	// admitting this one first would only make the peer flap down and up.
	if l.preferred || !m.dialing(peer.Addr) {
		ok, prev = m.attach(l)
	}
	if !ok {
		_ = sendWelcome(conn, welcomeDuplicate)
		stop()
		_ = conn.Close()
		return
	}
	err = sendWelcome(conn, welcomeOK)
	if stopped := stop(); err != nil || !stopped {
		l.close()
		m.detach(l, errors.Join(err, ctx.Err()))
		return
	}
	m.serveLink(l, prev)
}

// guardSetup bounds connection setup: a handshake deadline, and closing the connection if the
// mesh stops meanwhile. The returned stop clears both; it reports false if ctx already won.
func (m *Mesh) guardSetup(ctx context.Context, conn net.Conn) (stop func() bool) {
	_ = conn.SetDeadline(time.Now().Add(m.opts.HandshakeTimeout))
	cancel := context.AfterFunc(ctx, func() { _ = conn.Close() })
	return func() bool {
		_ = conn.SetDeadline(time.Time{})
		return cancel()
	}
}

func (m *Mesh) logRefused(remote net.Addr, err error) {
	switch {
	case errors.Is(err, ErrAuth):
		m.met.authFailures.Inc()
		m.log.Warn("refused cluster link: peer failed authentication", "remote", remote.String(), "err", err)
	case errors.Is(err, errSelf):
	default:
		m.log.Info("incoming cluster connection failed during handshake", "remote", remote.String(), "err", err)
	}
}

// dialLoop keeps a link to addr while the address is a dial target, redialing with backoff.
func (m *Mesh) dialLoop(ctx context.Context, addr string) {
	bo := backoff{min: m.opts.MinBackoff, max: m.opts.MaxBackoff}
	for {
		target, want := m.dialTarget(addr)
		if !want || ctx.Err() != nil {
			return
		}
		l, prev, err := m.dial(ctx, target)
		switch {
		case err == nil:
			m.serveLink(l, prev)
			if time.Since(l.upAt) > m.opts.DeadAfter {
				bo.reset()
			}
		case errors.Is(err, errSelf):
			m.markSelf(addr)
		case errors.Is(err, ErrAuth):
			m.met.authFailures.Inc()
			m.log.Warn("cluster peer failed authentication", "addr", addr, "err", err)
		case errors.Is(err, errDuplicate):
		default:
			m.log.Debug("cluster dial failed", "addr", addr, "err", err)
		}
		if !sleepCtx(ctx, bo.next()) {
			return
		}
	}
}

// dial connects, authenticates and attaches one link to target.
func (m *Mesh) dial(ctx context.Context, target Member) (*link, *link, error) {
	d := net.Dialer{Timeout: m.opts.DialTimeout}
	raw, err := d.DialContext(ctx, "tcp", target.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", target.Addr, err)
	}
	conn := raw
	if m.opts.ClientTLS != nil {
		conn = tls.Client(raw, m.opts.ClientTLS)
	}
	br := bufio.NewReaderSize(conn, readBufferSize)
	stop := m.guardSetup(ctx, conn)
	peer, err := dialHandshake(conn, br, m.self, m.secret)
	if peer.Name != "" {
		m.learnName(target.Addr, peer.Name)
	}
	if err == nil && target.Name != "" && peer.Name != target.Name {
		err = fmt.Errorf("%s answers as %q, discovery says %q", target.Addr, peer.Name, target.Name)
	}
	if stopped := stop(); err != nil || !stopped {
		_ = conn.Close()
		return nil, nil, errors.Join(err, ctx.Err())
	}
	l := newLink(m.self.Name, peer, conn, br, true)
	ok, prev := m.attach(l)
	if !ok {
		_ = conn.Close()
		return nil, nil, errDuplicate
	}
	return l, prev, nil
}

func (m *Mesh) dialing(addr string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dialers[addr]
}

func (m *Mesh) learnName(addr, name string) {
	m.mu.Lock()
	m.addrNames[addr] = name
	m.mu.Unlock()
}

func (m *Mesh) markSelf(addr string) {
	m.mu.Lock()
	m.selfAddrs[addr] = true
	m.mu.Unlock()
}
