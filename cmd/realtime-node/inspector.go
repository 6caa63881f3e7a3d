package main

import (
	"log/slog"

	"github.com/realtimeops/realtime/node/inspector"
	"github.com/realtimeops/realtime/node/server"
)

// inspectorLog keeps the node's last WARN/ERROR records for the inspector's node view; without
// --inspector the logger is returned unchanged.
func inspectorLog(cfg config, log *slog.Logger) (*slog.Logger, *inspector.RecentErrors) {
	if !cfg.Inspector {
		return log, nil
	}
	ring := inspector.NewRecentErrors(50)
	return slog.New(ring.Handler(log.Handler())), ring
}

// inspectorOptions turns on /inspector (--inspector / INSPECTOR=true); nil leaves it a 404.
func inspectorOptions(cfg config, log *slog.Logger, recent *inspector.RecentErrors) *server.InspectorOptions {
	if !cfg.Inspector {
		return nil
	}
	log.Info("inspector page served at /inspector", "adminView", cfg.InspectorAdminToken != "")
	return &server.InspectorOptions{
		AdminToken:   cfg.InspectorAdminToken,
		Node:         map[string]string{"name": cfg.NodeName, "region": cfg.Region},
		RecentErrors: recent,
	}
}
