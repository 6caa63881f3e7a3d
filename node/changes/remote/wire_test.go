package remote

import (
	"bytes"
	"reflect"
	"testing"
)

func TestWireRoundTrip(t *testing.T) {
	r := reg{Tenant: "t1", Token: 42, Claims: []byte(`{"role":"anon"}`), Bindings: []byte(`[{"event":"*"}]`)}
	gotR, err := decodeReg(r.encode())
	if err != nil || !reflect.DeepEqual(gotR, r) {
		t.Fatalf("reg: %+v %v", gotR, err)
	}
	c := change{Token: 7, IDs: []int64{1, -5, 1 << 40}, Data: []byte(`{"x":1}`)}
	gotC, err := decodeChange(encodeChange(c.Token, c.IDs, c.Data))
	if err != nil || !reflect.DeepEqual(gotC, c) {
		t.Fatalf("change: %+v %v", gotC, err)
	}
	s := system{Token: 9, Status: "ok", Message: "Subscribed to PostgreSQL"}
	gotS, err := decodeSystem(s.encode())
	if err != nil || gotS != s {
		t.Fatalf("system: %+v %v", gotS, err)
	}
	ctl := control{Op: opClaim, Tenant: "t1", N: 1 << 33}
	gotCtl, err := decodeControl(ctl.encode())
	if err != nil || gotCtl != ctl {
		t.Fatalf("control: %+v %v", gotCtl, err)
	}
	tok, err := decodeToken(encodeToken(123456))
	if err != nil || tok != 123456 {
		t.Fatalf("token: %d %v", tok, err)
	}
}

func TestWireTruncated(t *testing.T) {
	full := encodeChange(7, []int64{1, 2}, []byte("data"))
	for i := 0; i < len(full); i++ {
		if _, err := decodeChange(full[:i]); err == nil {
			t.Fatalf("decodeChange accepted %d of %d bytes", i, len(full))
		}
	}
}

// Peers are authenticated, but a decoder must still never panic or over-allocate on any input.
func FuzzDecode(f *testing.F) {
	f.Add(reg{Tenant: "t", Token: 1, Claims: []byte("{}"), Bindings: []byte("[]")}.encode())
	f.Add(encodeChange(1, []int64{3}, []byte("{}")))
	f.Add(system{Token: 1, Status: "ok", Message: "m"}.encode())
	f.Add(control{Op: opBarrier, N: 5}.encode())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		if m, err := decodeReg(p); err == nil && !bytes.Equal(m.encode(), p) && len(m.encode()) > len(p) {
			t.Fatalf("reg re-encodes longer than its input")
		}
		_, _ = decodeChange(p)
		_, _ = decodeSystem(p)
		_, _ = decodeControl(p)
		_, _ = decodeToken(p)
	})
}
