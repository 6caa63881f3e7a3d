package main

import (
	"log/slog"

	"github.com/realtimeops/realtime/node/server"
)

// inspectorOptions turns on /inspector (--inspector / INSPECTOR=true); nil leaves it a 404.
func inspectorOptions(cfg config, log *slog.Logger) *server.InspectorOptions {
	if !cfg.Inspector {
		return nil
	}
	log.Info("inspector page served at /inspector", "adminView", cfg.InspectorAdminToken != "")
	return &server.InspectorOptions{
		AdminToken: cfg.InspectorAdminToken,
		Node:       map[string]string{"name": cfg.NodeName, "region": cfg.Region},
	}
}
