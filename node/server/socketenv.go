package server

import (
	"os"
	"strconv"
	"time"

	"github.com/realtimeops/realtime/node/socket"
)

// socketEnvDefaults fills socket options the node's flags do not set from upstream's environment
// variables: NO_CHANNEL_TIMEOUT_IN_MS (default 10 min, docs/protocol.md#socket-lifecycle). An unparsable value keeps the
// default. (It lives here rather than in cmd/realtime-node so that every way of building a
// Server honours it; a config package may set the field explicitly instead.)
func socketEnvDefaults(o *socket.Options) {
	if o.NoChannelTimeout == 0 {
		o.NoChannelTimeout = envMillis("NO_CHANNEL_TIMEOUT_IN_MS", socket.DefaultNoChannelTimeout)
	}
}

func envMillis(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	ms, err := strconv.Atoi(v)
	if err != nil || ms <= 0 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}
