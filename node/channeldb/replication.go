package channeldb

import (
	"github.com/realtimeops/realtime/node/channel"
	"github.com/realtimeops/realtime/node/tenant"
)

var _ channel.Replication = Changes{}

// ReplicationReady answers config.broadcast.replication_ready like upstream's
// Connect.replication_status/1 (lib/realtime/tenants/connect.ex): established once the tenant's
// replication stream reads its slot. On the node that owns the tenant's WAL work that is the
// worker's streaming flag. In a cluster the stream runs on the owner node; a non-owner node does
// not see its state and reports the connection as established once it watches the tenant (its
// database was reachable at join), which is weaker than upstream's cluster-wide lookup.
func (c Changes) ReplicationReady(t *tenant.Tenant) (bool, error) {
	if t.Database == nil || c.Service == nil {
		return false, channel.ErrNoReplication
	}
	st := c.Service.Replication(t.ExternalID)
	switch {
	case st.Owned:
		return st.Streaming, nil
	case c.Router != nil && st.Watched:
		return true, nil
	}
	return false, nil
}
