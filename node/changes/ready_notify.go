package changes

// ReplicationState is what config.broadcast.replication_ready needs to know about a tenant's
// replication connection on this node.
type ReplicationState struct {
	// Watched: the service knows the tenant (it has a database and a stream is wanted).
	Watched bool
	// Owned: this node runs the tenant's stream.
	Owned bool
	// Streaming: the stream is connected and reading the slot.
	Streaming bool
	// LastError is the stream's last connection error, if it is not streaming.
	LastError string
}

// Replication reports the state of the tenant's replication connection. It only reads the state
// the workers keep for Status (the streaming flag set by the worker once the slot is being read).
func (s *Service) Replication(externalID string) ReplicationState {
	s.mu.Lock()
	ts := s.tenants[externalID]
	var w *worker
	if ts != nil {
		w = ts.worker
	}
	s.mu.Unlock()
	st := ReplicationState{Watched: ts != nil, Owned: w != nil}
	if w != nil {
		w.mu.Lock()
		st.Streaming, st.LastError = w.streaming, w.lastErr
		w.mu.Unlock()
	}
	return st
}
