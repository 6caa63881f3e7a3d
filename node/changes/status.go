package changes

import (
	"sort"

	"github.com/jackc/pglogrepl"
)

// TenantStatus is one tenant's stream state for the node's status endpoint.
type TenantStatus struct {
	Tenant        string `json:"tenant"`
	Slot          string `json:"slot"`
	Owned         bool   `json:"owned"`
	Streaming     bool   `json:"streaming"`
	Subscriptions int    `json:"subscriptions"`
	ConfirmedLSN  string `json:"confirmedLsn,omitempty"`
	ServerLSN     string `json:"serverLsn,omitempty"`
	LagBytes      int64  `json:"lagBytes"`
	LastError     string `json:"lastError,omitempty"`
}

// Status reports every known tenant, sorted by id, and refreshes the slot lag gauge.
func (s *Service) Status() []TenantStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TenantStatus, 0, len(s.tenants))
	for id, ts := range s.tenants {
		st := TenantStatus{Tenant: id, Subscriptions: ts.reg.size()}
		if w := ts.worker; w != nil {
			st.Owned, st.Slot = true, w.slot
			conf, end := pglogrepl.LSN(w.confirmed.Load()), pglogrepl.LSN(w.serverEnd.Load())
			if conf > 0 {
				st.ConfirmedLSN = conf.String()
			}
			if end > 0 {
				st.ServerLSN = end.String()
			}
			if end > conf && conf > 0 {
				st.LagBytes = int64(end - conf)
			}
			w.mu.Lock()
			st.Streaming, st.LastError = w.streaming, w.lastErr
			w.mu.Unlock()
			s.metrics.lag.WithLabelValues(id).Set(float64(st.LagBytes))
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tenant < out[j].Tenant })
	return out
}
