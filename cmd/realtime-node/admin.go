package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// adminServer serves the admin endpoints (/metrics, /status, probes) on --admin-addr, with the
// node's certificate when TLS is configured, so scrapes are encrypted like client traffic. The
// listener is opened by the caller before the node reports ready.
func adminServer(l net.Listener, h http.Handler, log *slog.Logger) runner {
	return func(ctx context.Context) error {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
