package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/rampart-ai/rampart/config"
)

// ListenAndServe listens on cfg.Server.Listen and serves until ctx ends,
// then shuts down gracefully (see Serve).
func (g *Gateway) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", g.listenAddr())
	if err != nil {
		return err
	}
	return g.Serve(ctx, ln)
}

func (g *Gateway) listenAddr() string {
	if g.cfg.Server.Listen == "" {
		return config.DefaultListen
	}
	return g.cfg.Server.Listen
}

// Server returns the http.Server the gateway uses, with its timeouts from
// cfg.Server. There is no WriteTimeout: it would cut long streams.
func (g *Gateway) Server() *http.Server {
	s := g.cfg.Server
	return &http.Server{
		Handler:           g,
		ReadHeaderTimeout: orDur(s.ReadHeaderTimeout, config.DefaultReadHeaderTimeout),
		ReadTimeout:       orDur(s.ReadTimeout, config.DefaultReadTimeout),
		IdleTimeout:       orDur(s.IdleTimeout, config.DefaultIdleTimeout),
		MaxHeaderBytes:    orInt(s.MaxHeaderBytes, config.DefaultMaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Serve serves on ln until ctx ends. Then /readyz turns 503, the listener
// closes, and in-flight requests and streams get cfg.Server.ShutdownGrace
// to finish before their connections are closed; finally the layers are
// closed.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	srv := g.Server()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		g.ready.Store(false)
		grace := orDur(g.cfg.Server.ShutdownGrace, config.DefaultShutdownGrace)
		g.log.Info("shutting down", "grace", grace.String())
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		err = srv.Shutdown(sctx)
		cancel()
		if err != nil {
			g.log.Warn("shutdown grace over; closing remaining connections", "error", err.Error())
			_ = srv.Close()
		}
		<-errc
		err = nil
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	g.Close()
	return err
}
