package changes

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

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
	e.svc.SetBroadcastSink(func(_ *tenant.Tenant, topic string, private bool, event string, payload []byte, binary bool, id string) {
		mu.Lock()
		got = append(got, msg{topic, event, id, private, binary, string(payload)})
		mu.Unlock()
	})
	release := e.svc.Watch(e.tenant)
	defer release()
	deadline := time.Now().Add(20 * time.Second)
	for {
		e.exec(t, `select realtime.send('{"a": 1}'::jsonb, 'ev', 'room1', false)`)
		e.exec(t, `select realtime.send_binary('\x0102'::bytea, 'bin', 'room2')`)
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no database broadcast reached the sink")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	first := got[0]
	var payload map[string]any
	if err := json.Unmarshal([]byte(first.payload), &payload); err != nil {
		t.Fatalf("payload %q: %v", first.payload, err)
	}
	if first.topic != "room1" || first.event != "ev" || first.private || first.binary || payload["a"] != float64(1) || payload["id"] != first.id {
		t.Errorf("json broadcast = %+v", first)
	}
	second := got[1]
	if second.topic != "room2" || !second.private || !second.binary || second.payload != "\x01\x02" {
		t.Errorf("binary broadcast = %+v", second)
	}
}
