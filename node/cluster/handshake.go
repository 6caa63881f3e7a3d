package cluster

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Handshake, on a fresh connection (after TLS when configured), each step one frame:
//
//	dialer   -> acceptor  hello:     magic "RTC1" | nonceD[32] | dialer Member JSON
//	acceptor -> dialer    challenge: nonceA[32] | macA[32] | acceptor Member JSON
//	dialer   -> acceptor  proof:     macD[32]
//	acceptor -> dialer    welcome:   status byte (welcomeOK or welcomeDuplicate)
//
// macX = HMAC-SHA256(secret, labelX | nonceD | nonceA | len|dialer JSON | len|acceptor JSON).
// Both sides prove they hold the secret over fresh nonces from both ends, so a recorded handshake
// cannot be replayed; the distinct labels stop an attacker from reflecting one side's proof back
// as the other's; covering both identities stops a proof being reused for another name. A party
// that fails is refused before any message is dispatched.
//
// Without TLS only the handshake is authenticated: an on-path attacker able to rewrite TCP
// segments could still inject frames into an established link. Use TLS across untrusted networks.
const (
	typeHello     byte = 2
	typeChallenge byte = 3
	typeProof     byte = 4
	typeWelcome   byte = 5

	welcomeOK        byte = 0
	welcomeDuplicate byte = 1 // a preferred link to this peer already exists; do not use this one

	nonceLen       = 32
	maxHandshake   = 4096
	handshakeMagic = "RTC1"
	labelDialer    = "realtime-cluster/v1 dialer"
	labelAcceptor  = "realtime-cluster/v1 acceptor"
)

// ErrAuth means the other side did not prove knowledge of the cluster secret.
var ErrAuth = errors.New("cluster link authentication failed")

// errSelf means we connected to ourselves (DNS lists our own address).
var errSelf = errors.New("connected to self")

// errDuplicate means the acceptor already has a preferred link to us.
var errDuplicate = errors.New("duplicate link refused by peer")

func linkMAC(secret []byte, label string, nonceD, nonceA, dialer, acceptor []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	h.Write(nonceD)
	h.Write(nonceA)
	for _, id := range [][]byte{dialer, acceptor} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(id))))
		h.Write(id)
	}
	return h.Sum(nil)
}

func newNonce() []byte {
	b := make([]byte, nonceLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

// sendFrame writes one unbuffered handshake frame.
func sendFrame(w io.Writer, typ byte, payload []byte) error {
	if _, err := w.Write(appendFrame(nil, typ, payload)); err != nil {
		return fmt.Errorf("write handshake frame %d: %w", typ, err)
	}
	return nil
}

// expectFrame reads one handshake frame of type want.
func expectFrame(r *bufio.Reader, want byte) ([]byte, error) {
	typ, p, err := readFrame(r, maxHandshake)
	if err != nil {
		return nil, fmt.Errorf("read handshake frame: %w", noEOF(err))
	}
	if typ != want {
		return nil, fmt.Errorf("%w: handshake frame type %d, want %d", ErrAuth, typ, want)
	}
	return p, nil
}

// decodeIdentity parses and validates the peer's Member JSON.
func decodeIdentity(b []byte, self Member) (Member, error) {
	var m Member
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: bad identity: %v", ErrAuth, err)
	}
	if m.Name == "" || m.Addr == "" {
		return m, fmt.Errorf("%w: identity lacks name or addr", ErrAuth)
	}
	if m.Name == self.Name {
		return m, errSelf
	}
	return m, nil
}

// dialHandshake runs the dialer side; it returns the authenticated peer.
func dialHandshake(rw io.Writer, r *bufio.Reader, self Member, secret []byte) (Member, error) {
	selfID, err := json.Marshal(self)
	if err != nil {
		return Member{}, fmt.Errorf("encode identity: %w", err)
	}
	nonceD := newNonce()
	hello := append(append([]byte(handshakeMagic), nonceD...), selfID...)
	if err := sendFrame(rw, typeHello, hello); err != nil {
		return Member{}, err
	}
	ch, err := expectFrame(r, typeChallenge)
	if err != nil {
		return Member{}, err
	}
	if len(ch) < nonceLen+sha256.Size {
		return Member{}, fmt.Errorf("%w: short challenge", ErrAuth)
	}
	nonceA, macA, peerID := ch[:nonceLen], ch[nonceLen:nonceLen+sha256.Size], ch[nonceLen+sha256.Size:]
	proof := linkMAC(secret, labelDialer, nonceD, nonceA, selfID, peerID)
	if !hmac.Equal(macA, linkMAC(secret, labelAcceptor, nonceD, nonceA, selfID, peerID)) {
		// Still send our proof so the acceptor can tell (and log) a secret mismatch rather than
		// a hang-up.
		_ = sendFrame(rw, typeProof, proof)
		return Member{}, fmt.Errorf("%w: acceptor's proof does not match our secret", ErrAuth)
	}
	peer, err := decodeIdentity(peerID, self)
	if err != nil {
		return peer, err
	}
	if err := sendFrame(rw, typeProof, proof); err != nil {
		return peer, err
	}
	w, err := expectFrame(r, typeWelcome)
	if err != nil {
		return peer, err
	}
	if len(w) != 1 || (w[0] != welcomeOK && w[0] != welcomeDuplicate) {
		return peer, fmt.Errorf("%w: bad welcome", ErrAuth)
	}
	if w[0] == welcomeDuplicate {
		return peer, errDuplicate
	}
	return peer, nil
}

// acceptHandshake runs the acceptor side up to verifying the dialer's proof; the caller decides
// whether to keep the link and then calls sendWelcome.
func acceptHandshake(rw io.Writer, r *bufio.Reader, self Member, secret []byte) (Member, error) {
	hello, err := expectFrame(r, typeHello)
	if err != nil {
		return Member{}, err
	}
	if len(hello) < len(handshakeMagic)+nonceLen || !bytes.HasPrefix(hello, []byte(handshakeMagic)) {
		return Member{}, fmt.Errorf("%w: bad hello", ErrAuth)
	}
	nonceD, peerID := hello[len(handshakeMagic):len(handshakeMagic)+nonceLen], hello[len(handshakeMagic)+nonceLen:]
	selfID, err := json.Marshal(self)
	if err != nil {
		return Member{}, fmt.Errorf("encode identity: %w", err)
	}
	nonceA := newNonce()
	macA := linkMAC(secret, labelAcceptor, nonceD, nonceA, peerID, selfID)
	if err := sendFrame(rw, typeChallenge, append(append(nonceA, macA...), selfID...)); err != nil {
		return Member{}, err
	}
	proof, err := expectFrame(r, typeProof)
	if err != nil {
		return Member{}, err
	}
	if !hmac.Equal(proof, linkMAC(secret, labelDialer, nonceD, nonceA, peerID, selfID)) {
		return Member{}, fmt.Errorf("%w: dialer's proof does not match our secret", ErrAuth)
	}
	return decodeIdentity(peerID, self)
}

func sendWelcome(w io.Writer, status byte) error {
	return sendFrame(w, typeWelcome, []byte{status})
}
