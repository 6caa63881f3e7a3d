package changes

import (
	"testing"

	"github.com/jackc/pglogrepl"
)

// The stream may see a readiness token before markReady learns the message's LSN; the late
// position must not re-arm the waiter, or the subscriber hears "Subscribed" twice.
func TestReadinessFiresOnce(t *testing.T) {
	tests := []struct {
		name    string
		steps   func(r *readiness)
		wantHit int
	}{
		{"token seen before position known", func(r *readiness) {
			r.advance(0, "tok")
			r.setLSN("tok", 10)
			r.advance(20, "")
		}, 1},
		{"position known then passed", func(r *readiness) {
			r.setLSN("tok", 10)
			r.advance(5, "")
			r.advance(10, "")
			r.advance(20, "tok")
		}, 1},
		{"unknown position: keepalives do not fire", func(r *readiness) {
			r.advance(1<<40, "")
		}, 0},
		{"removed before firing", func(r *readiness) {
			r.remove("tok")
			r.setLSN("tok", 10)
			r.advance(20, "tok")
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry().ready
			hits := 0
			r.add("tok", pglogrepl.LSN(^uint64(0)), func() { hits++ })
			tt.steps(r)
			if hits != tt.wantHit {
				t.Fatalf("fired %d times, want %d", hits, tt.wantHit)
			}
			if r.pending() != (tt.wantHit == 0 && tt.name != "removed before firing") {
				t.Fatalf("pending() = %v", r.pending())
			}
		})
	}
}
