package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	msgs := []struct {
		typ     byte
		payload []byte
	}{{16, []byte("hello")}, {1, nil}, {200, bytes.Repeat([]byte{7}, 70000)}}
	for _, m := range msgs {
		if err := writeFrame(w, m.typ, m.payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes()[:10], appendFrame(nil, 16, []byte("hello"))) {
		t.Fatal("appendFrame and writeFrame disagree")
	}
	r := bufio.NewReader(&buf)
	for i, m := range msgs {
		typ, p, err := readFrame(r, DefaultMaxFrame)
		if err != nil || typ != m.typ || !bytes.Equal(p, m.payload) {
			t.Fatalf("frame %d: typ=%d len=%d err=%v", i, typ, len(p), err)
		}
	}
	if _, _, err := readFrame(r, DefaultMaxFrame); err != io.EOF {
		t.Fatalf("after last frame: %v, want EOF", err)
	}
}

func TestReadFrameErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"zero length", []byte{0, 0, 0, 0, 9}, nil},
		{"too large", []byte{0, 1, 0, 1, 9}, errFrameTooLarge},
		{"truncated header", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"truncated payload", []byte{0, 0, 0, 5, 9, 1}, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		_, _, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), 1024)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err=%v want %v", tc.name, err, tc.want)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, 16, []byte("x")))
	f.Add(appendFrame(appendFrame(nil, 1, nil), 17, []byte("yz")))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			typ, p, err := readFrame(r, 4096)
			if err != nil {
				return
			}
			if len(p) >= 4096 {
				t.Fatalf("payload of %d bytes beyond max (type %d)", len(p), typ)
			}
		}
	})
}
