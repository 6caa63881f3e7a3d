package cluster

import (
	"bufio"
	"errors"
	"net"
	"testing"
	"time"
)

// runHandshake runs both sides over an in-memory pipe.
func runHandshake(t *testing.T, dSelf, aSelf Member, dSecret, aSecret []byte, status byte) (dPeer, aPeer Member, dErr, aErr error) {
	t.Helper()
	dc, ac := net.Pipe()
	defer dc.Close()
	defer ac.Close()
	_ = dc.SetDeadline(time.Now().Add(5 * time.Second))
	_ = ac.SetDeadline(time.Now().Add(5 * time.Second))
	done := make(chan struct{})
	go func() {
		defer close(done)
		aPeer, aErr = acceptHandshake(ac, bufio.NewReader(ac), aSelf, aSecret)
		if aErr == nil {
			aErr = sendWelcome(ac, status)
		} else {
			ac.Close()
		}
	}()
	dPeer, dErr = dialHandshake(dc, bufio.NewReader(dc), dSelf, dSecret)
	if dErr != nil {
		dc.Close()
	}
	<-done
	return
}

func TestHandshake(t *testing.T) {
	a := Member{Name: "a", Region: "eu", Addr: "127.0.0.1:1", Epoch: 1}
	b := Member{Name: "b", Region: "us", Addr: "127.0.0.2:1", Epoch: 2}
	good, bad := []byte("s3cret"), []byte("wrong")
	errAny := errors.New("any error")
	cases := []struct {
		name             string
		dSecret, aSecret []byte
		acceptor         Member
		status           byte
		dWant, aWant     error
	}{
		{"same secret", good, good, b, welcomeOK, nil, nil},
		{"dialer lacks secret", bad, good, b, welcomeOK, ErrAuth, ErrAuth},
		{"acceptor lacks secret", good, bad, b, welcomeOK, ErrAuth, ErrAuth},
		{"duplicate refused", good, good, b, welcomeDuplicate, errDuplicate, nil},
		{"self connection", good, good, Member{Name: "a", Addr: "x"}, welcomeOK, errSelf, errAny},
	}
	matches := func(err, want error) bool {
		if want == errAny {
			return err != nil
		}
		return errors.Is(err, want) || (want == nil && err == nil)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dPeer, aPeer, dErr, aErr := runHandshake(t, a, tc.acceptor, tc.dSecret, tc.aSecret, tc.status)
			if !matches(dErr, tc.dWant) {
				t.Errorf("dialer err = %v, want %v", dErr, tc.dWant)
			}
			if !matches(aErr, tc.aWant) {
				t.Errorf("acceptor err = %v, want %v", aErr, tc.aWant)
			}
			if tc.dWant == nil && (dPeer != b || aPeer != a) {
				t.Errorf("identities: dialer saw %+v, acceptor saw %+v", dPeer, aPeer)
			}
		})
	}
}
