package changes

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/realtimeops/realtime/node/tenant"
)

func TestDatabaseBroadcastReachesSink(t *testing.T) {
	e := newEnv(t, "")
	type msg struct {
		topic, event, id string
		private, binary  bool
		payload          string
	}
	var (
		mu  sync.Mutex
		got []msg
	)
	// firstOf is the first message of event received; callers hold mu.
	firstOf := func(event string) (msg, bool) {
		for _, m := range got {
			if m.event == event {
				return m, true
			}
		}
		return msg{}, false
	}
	var timings [][2]time.Time
	// The hooks are constructor arguments: replace newEnv's Service by one built with them.
	e.stop()
	e.svc = NewService(e.mgr, AlwaysOwner{}, testLogger(), prometheus.NewRegistry(), Hooks{
		Sink: func(_ *tenant.Tenant, topic string, private bool, event string, payload []byte, binary bool, id string) {
			mu.Lock()
			got = append(got, msg{topic, event, id, private, binary, string(payload)})
			mu.Unlock()
		},
		Timing: func(_ *tenant.Tenant, inserted, committed time.Time) {
			mu.Lock()
			timings = append(timings, [2]time.Time{inserted, committed})
			mu.Unlock()
		},
	})
	e.run(t)
	e.svc.Watch(e.tenant)
	deadline := time.Now().Add(20 * time.Second)
	for {
		e.exec(t, `select realtime.send('{"a": 1}'::jsonb, 'ev', 'room1', false)`)
		e.exec(t, `select realtime.send_binary('\x0102'::bytea, 'bin', 'room2')`)
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		_, okJSON := firstOf("ev")
		_, okBin := firstOf("bin")
		mu.Unlock()
		if okJSON && okBin {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no database broadcast reached the sink")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// The sends repeat until both arrived, and the stream may start between the two of one round:
	// the first message of each kind is checked, not the first two messages.
	first, _ := firstOf("ev")
	var payload map[string]any
	if err := json.Unmarshal([]byte(first.payload), &payload); err != nil {
		t.Fatalf("payload %q: %v", first.payload, err)
	}
	if first.topic != "room1" || first.event != "ev" || first.private || first.binary || payload["a"] != float64(1) || payload["id"] != first.id {
		t.Errorf("json broadcast = %+v", first)
	}
	second, _ := firstOf("bin")
	if second.topic != "room2" || !second.private || !second.binary || second.payload != "\x01\x02" {
		t.Errorf("binary broadcast = %+v", second)
	}
	// Both latencies start from times the database reported: inserted_at, then the commit.
	for _, tm := range timings {
		if d := time.Since(tm[1]); tm[1].IsZero() || d < 0 || d > time.Minute || tm[1].Before(tm[0].Add(-time.Second)) {
			t.Errorf("timing inserted_at %v committed %v", tm[0], tm[1])
		}
	}
	if len(timings) < 2 {
		t.Errorf("%d broadcast timings, want one per broadcast", len(timings))
	}
}
