package main

import "testing"

func TestParsePeers(t *testing.T) {
	got, err := parsePeers("a@eu=127.0.0.1:4001, b@us=127.0.0.2:4001,")
	if err != nil || len(got) != 2 || got[0].Name != "a" || got[0].Region != "eu" || got[1].Addr != "127.0.0.2:4001" {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"a@eu", "=127.0.0.1:1", "@eu=x"} {
		if _, err := parsePeers(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
