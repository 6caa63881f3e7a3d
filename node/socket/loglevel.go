package socket

import (
	"context"
	"log/slog"
)

// ParseLogLevel reads the log_level connect parameter (docs/protocol.md#upgrade-parameters) as upstream's
// user_socket.ex log_level/1 does: "info", "warning" and "error" set the connection's server log
// level, anything else means error. ok is false when the parameter is absent: upstream then uses
// error as well, here the node's own --log-level applies, so operators keep the logs they asked
// for from clients that do not send the parameter (realtime-js sends it only when configured).
func ParseLogLevel(v string, present bool) (level slog.Level, ok bool) {
	if !present {
		return 0, false
	}
	switch v {
	case "info":
		return slog.LevelInfo, true
	case "warning":
		return slog.LevelWarn, true
	}
	return slog.LevelError, true
}

// minLevel drops records below min before they reach the node's handler (which applies its own
// level too), like Logger.put_process_level on the connection's processes upstream.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.min {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

func withMinLevel(l *slog.Logger, level slog.Level, set bool) *slog.Logger {
	if !set {
		return l
	}
	return slog.New(minLevel{Handler: l.Handler(), min: level})
}
