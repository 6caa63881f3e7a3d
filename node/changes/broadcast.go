package changes

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/realtimeops/realtime/node/tenant"
)

// BroadcastSink receives database broadcasts (rows inserted into realtime.messages by
// realtime.send / realtime.broadcast_changes, docs/protocol.md#database-broadcast). payload is the JSON text of the payload
// column, or the raw bytes of binary_payload when binary is true; id is the row's uuid. It must not
// block for long: the stream waits for it before confirming the slot position.
type BroadcastSink func(t *tenant.Tenant, topic string, private bool, event string, payload []byte, binary bool, id string)

// broadcast forwards one realtime.messages insert; rows without the required columns are ignored,
// as in the Elixir replication connection.
func (w *worker) broadcast(t *txn, ch *change) {
	sink := w.s.hooks.Sink
	if sink == nil {
		return
	}
	get := func(name string) (colVal, bool) {
		i, ok := ch.rel.colIndex[name]
		if !ok || i >= len(ch.newT) {
			return colVal{}, false
		}
		return ch.newT[i], true
	}
	topic, ok1 := get("topic")
	event, ok2 := get("event")
	id, ok3 := get("id")
	priv, ok4 := get("private")
	ins, ok5 := get("inserted_at")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || topic.state != 't' || id.state != 't' || ins.state != 't' {
		return
	}
	if ext, ok := get("extension"); ok && ext.state == 't' && ext.text != "broadcast" {
		return
	}
	var payload []byte
	binary := false
	if p, ok := get("payload"); ok && p.state == 't' {
		payload = []byte(p.text)
	} else if bp, ok := get("binary_payload"); ok && bp.state == 't' {
		raw, err := hex.DecodeString(strings.TrimPrefix(bp.text, `\x`))
		if err != nil {
			return
		}
		payload, binary = raw, true
	} else {
		return
	}
	sink(w.t, topic.text, priv.state == 't' && parseBool(priv.text), event.text, payload, binary, id.text)
	w.metrics.broadcasts.Inc()
	if f := w.s.hooks.Timing; f != nil {
		// inserted_at is "timestamp" in UTC (timezone('utc', now())), printed by pgoutput as text.
		if at, err := time.Parse("2006-01-02 15:04:05.999999", ins.text); err == nil {
			f(w.t, at, t.commitTime)
		}
	}
}
