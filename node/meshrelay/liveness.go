package meshrelay

import "time"

// sweep applies the liveness rules to every remote replica the tracker knows, including replicas
// learned only through another node's full state: a replica whose node is connected with the same
// epoch is up; one whose node came back with a newer epoch is gone for good (a restarted node is a
// new replica); one whose node is unreachable goes down after DownPeriod (its presences leave) and
// is forgotten after PermDownPeriod.
func (w *Relay) sweep(now time.Time) {
	live := map[string]int64{}
	for _, p := range w.cfg.Mesh.Peers() {
		live[p.Name] = p.Epoch
	}
	self := w.cfg.Tracker.Replica()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.cfg.Tracker.Replicas() {
		id := r.ID
		if id == self {
			continue
		}
		epoch, connected := live[id.Node]
		switch {
		case id.Node == self.Node && id.Epoch < self.Epoch:
			// Our own previous incarnation (learned from a peer after a restart): gone for good.
			delete(w.missing, id)
			w.cfg.Tracker.ReplicaPermDown(id)
		case connected && epoch == id.Epoch:
			delete(w.missing, id)
			if r.Down {
				w.cfg.Tracker.ReplicaUp(id)
			}
		case connected && epoch > id.Epoch:
			delete(w.missing, id)
			w.cfg.Tracker.ReplicaPermDown(id)
		default:
			since, ok := w.missing[id]
			if !ok {
				w.missing[id] = now
				continue
			}
			gone := now.Sub(since)
			if gone >= w.cfg.PermDownPeriod {
				delete(w.missing, id)
				w.cfg.Tracker.ReplicaPermDown(id)
			} else if gone >= w.cfg.DownPeriod && !r.Down {
				w.cfg.Log.Info("presence replica down", "replica", id.String(), "unreachable_for", gone.String())
				w.cfg.Tracker.ReplicaDown(id)
				w.replicasDown.Inc()
			}
		}
	}
}

// ReplicaStatus is one remote replica for the node's status endpoint.
type ReplicaStatus struct {
	Replica string `json:"replica"`
	Down    bool   `json:"down"`
	Entries int    `json:"entries"`
}

// Status reports the remote presence replicas.
func (w *Relay) Status() []ReplicaStatus {
	var out []ReplicaStatus
	self := w.cfg.Tracker.Replica()
	for _, r := range w.cfg.Tracker.Replicas() {
		if r.ID != self {
			out = append(out, ReplicaStatus{Replica: r.ID.String(), Down: r.Down, Entries: r.Entries})
		}
	}
	return out
}
