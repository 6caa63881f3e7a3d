package authz

import (
	"context"
	"testing"
)

// BenchmarkRead measures one read check (broadcast + presence probes) against real Postgres with
// the policies of setup.
func BenchmarkRead(b *testing.B) {
	_, pool := setupTB(b)
	ctx := context.Background()
	r := req("room1", nil)
	for b.Loop() {
		if br, _, err := Read(ctx, pool, r, true); err != nil || !br {
			b.Fatalf("Read = %v %v", br, err)
		}
	}
}

// BenchmarkWrite measures one write check (two savepointed inserts).
func BenchmarkWrite(b *testing.B) {
	_, pool := setupTB(b)
	ctx := context.Background()
	r := req("room1", nil)
	for b.Loop() {
		if bw, _, err := Write(ctx, pool, r); err != nil || !bw {
			b.Fatalf("Write = %v %v", bw, err)
		}
	}
}
