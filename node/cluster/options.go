package cluster

import (
	"crypto/tls"
	"net"
	"time"
)

// Options tunes a Mesh. Zero values take the defaults noted.
type Options struct {
	// Listener, when set, is used instead of listening on ListenAddr (tests, socket activation).
	Listener net.Listener
	// ListenAddr to bind (default Self.Addr); e.g. ":4100" while Self.Addr advertises podIP:4100.
	ListenAddr string
	// ServerTLS and ClientTLS enable TLS on links; set both or neither. ServerTLS needs
	// Certificates (and ClientAuth/ClientCAs for mutual TLS); ClientTLS needs RootCAs and usually
	// ServerName or a VerifyConnection that checks the peer certificate. The HMAC handshake runs
	// inside TLS either way.
	ServerTLS, ClientTLS *tls.Config
	// QueueLen and QueueBytes bound each peer's send queue (defaults 8192 frames, 64 MiB);
	// Send drops (and counts) beyond them.
	QueueLen, QueueBytes int
	// MaxFrame bounds a received frame (default DefaultMaxFrame).
	MaxFrame int
	// PingInterval: an idle link sends a ping this often (default 1 s). DeadAfter: a link that
	// received nothing for this long is closed and redialed (default 5 s).
	PingInterval, DeadAfter time.Duration
	// WriteTimeout bounds one batched write (default 10 s): a peer that stops reading is cut.
	WriteTimeout time.Duration
	// HandshakeTimeout and DialTimeout bound connection setup (defaults 5 s and 3 s).
	HandshakeTimeout, DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound redial delays (defaults 50 ms and 5 s).
	MinBackoff, MaxBackoff time.Duration
	// ForgetAfter: a disconnected peer that discovery no longer lists is forgotten, with its
	// queued messages, after this long (default 30 s).
	ForgetAfter time.Duration
}

func (o *Options) defaults() {
	setDefault(&o.QueueLen, 8192)
	setDefault(&o.QueueBytes, 64<<20)
	setDefault(&o.MaxFrame, DefaultMaxFrame)
	setDefault(&o.PingInterval, time.Second)
	setDefault(&o.DeadAfter, 5*time.Second)
	setDefault(&o.WriteTimeout, 10*time.Second)
	setDefault(&o.HandshakeTimeout, 5*time.Second)
	setDefault(&o.DialTimeout, 3*time.Second)
	setDefault(&o.MinBackoff, 50*time.Millisecond)
	setDefault(&o.MaxBackoff, 5*time.Second)
	setDefault(&o.ForgetAfter, 30*time.Second)
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
