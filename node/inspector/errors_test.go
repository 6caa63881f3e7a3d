package inspector

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRecentErrors(t *testing.T) {
	var out bytes.Buffer
	ring := NewRecentErrors(3)
	log := slog.New(ring.Handler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})))
	log.Info("not kept")
	log.With("tenant", "acme").WithGroup("db").Warn("slow", "ms", 300)
	log.Error("e1")
	log.Error("e2")
	log.Error("e3", "err", strings.Repeat("x", 2000))
	got := ring.List()
	if len(got) != 3 || got[0].Message != "e3" || got[2].Message != "e1" {
		t.Fatalf("want the last three, newest first: %+v", got)
	}
	if len(got[0].Attrs["err"]) > maxAttrText+len("…") {
		t.Errorf("value not clipped: %d bytes", len(got[0].Attrs["err"]))
	}
	// The WARN record fell out of the ring but was recorded with its attrs and group.
	ring2 := NewRecentErrors(5)
	slog.New(ring2.Handler(slog.NewTextHandler(&bytes.Buffer{}, nil))).With("tenant", "acme").WithGroup("db").Warn("slow", "ms", 300)
	w := ring2.List()
	if len(w) != 1 || w[0].Attrs["tenant"] != "acme" || w[0].Attrs["db.ms"] != "300" || w[0].Level != "WARN" {
		t.Errorf("warn record: %+v", w)
	}
	// The next handler keeps its own level: WARN is not printed by an ERROR-level handler.
	if strings.Contains(out.String(), "not kept") || strings.Contains(out.String(), "msg=slow") {
		t.Errorf("the ERROR-level handler printed an INFO or WARN record: %s", out.String())
	}
	if !strings.Contains(out.String(), "msg=e1") {
		t.Errorf("ERROR not passed on: %s", out.String())
	}
}
