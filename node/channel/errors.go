package channel

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/realtimeops/realtime/node/phoenix"
	"github.com/realtimeops/realtime/node/pubsub"
)

// logError is upstream's Logging.log_error/3 (lib/realtime_web/channels/realtime_channel/
// logging.ex): an error-level log with its code, counted in realtime_channel_error{tenant,code}.
func (c *Channel) logError(code, msg string, args ...any) {
	c.log().Error(msg, append([]any{"code", code, "topic", c.SubTopic}, args...)...)
	c.deps.Metrics.Errors.WithLabelValues(c.tenant.ExternalID, code).Inc()
}

// Crash ends the channel after a panic in its handling: the client gets phx_error (ref =
// join_ref, payload {}, docs/protocol.md#control-events), which realtime-js answers by rejoining with backoff, as it does
// when an Elixir channel process crashes. v is the recovered value.
func (c *Channel) Crash(v any) {
	c.logError("UnknownErrorOnChannel", "channel crashed", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if !c.markStopped() {
		return
	}
	c.conn.Send(pubsub.Frame{Data: phoenix.EncodeText(c.conn.Version(), c.joinRef, c.joinRef, c.Wire, phoenix.EventError, []byte("{}"))})
	c.release()
}

// Code is the log code of a rejection: the text before ": " of "<Code>: <message>" reasons.
func (r *Rejection) Code() string {
	if code, _, ok := strings.Cut(r.Reason, ": "); ok && !strings.Contains(code, " ") {
		return code
	}
	return "UnknownErrorOnChannel"
}

// notLoggedAsError are the rejections upstream's join/3 answers without log_error (too many
// channels or joins) or with a warning (token problems).
var notLoggedAsError = map[string]bool{
	"ChannelRateLimitReached": true, "ClientJoinRateLimitReached": true, "InvalidJWTToken": true,
}

// CountRejection logs a refused join at error level and counts it in realtime_channel_error,
// as upstream's join/3 does through log_error for most reasons.
func CountRejection(deps *Deps, conn Conn, subTopic string, rej *Rejection) {
	code := rej.Code()
	if notLoggedAsError[code] {
		conn.Logger().Info("join refused", "code", code, "topic", subTopic, "reason", rej.Reason)
		return
	}
	conn.Logger().Error("join refused", "code", code, "topic", subTopic, "reason", rej.Reason)
	deps.Metrics.Errors.WithLabelValues(conn.Tenant().ExternalID, code).Inc()
}
