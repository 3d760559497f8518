package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/netguard"
	"github.com/rampart-ai/rampart/tlsserve"
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

// Server returns the http.Server the gateway uses: its timeouts from
// cfg.Server and the gateway's handler behind the network guards (see
// netguard.Handler: client address with trusted proxies, security
// headers, CORS, per-write deadline). There is no server-wide
// WriteTimeout: it would cut long streams; the guards' per-write deadline
// (server.write_timeout) cuts clients that stop reading instead. Serve adds
// the connection caps and TLS.
func (g *Gateway) Server() *http.Server {
	srv, err := g.server()
	if err != nil {
		// Only an invalid CORS origin fails, which config validation
		// refuses first; a gateway built from an unvalidated config
		// refuses every request rather than serve without its guards.
		g.log.Error("network guards", "error", err.Error())
		srv = g.baseServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			g.fail(w, g.adapters["openai"], http.StatusServiceUnavailable, "server_misconfigured",
				"the gateway's network settings are invalid; see its log")
		}))
	}
	return srv
}

func (g *Gateway) server() (*http.Server, error) {
	s := g.cfg.Server
	res, err := g.resolver()
	if err != nil {
		return nil, err
	}
	h, err := netguard.Handler(g.h2HeaderGuard(orInt(s.MaxHeaderBytes, config.DefaultMaxHeaderBytes), g), netguard.Options{
		Resolver:              res,
		HSTSMaxAge:            orDur(s.TLS.HSTSMaxAge, config.DefaultHSTSMaxAge),
		HSTSIncludeSubdomains: s.TLS.HSTSIncludeSubdomains,
		WriteTimeout:          orDur(s.WriteTimeout, config.DefaultWriteTimeout),
		CORS: netguard.CORS{
			AllowedOrigins:   s.CORS.AllowedOrigins,
			AllowedMethods:   s.CORS.AllowedMethods,
			AllowedHeaders:   s.CORS.AllowedHeaders,
			ExposedHeaders:   s.CORS.ExposedHeaders,
			MaxAge:           orDur(s.CORS.MaxAge, config.DefaultCORSMaxAge),
			AllowCredentials: s.CORS.AllowCredentials,
		},
	})
	if err != nil {
		return nil, err
	}
	return g.baseServer(withTLSState(h)), nil
}

func (g *Gateway) baseServer(h http.Handler) *http.Server {
	s := g.cfg.Server
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDur(s.ReadHeaderTimeout, config.DefaultReadHeaderTimeout),
		ReadTimeout:       orDur(s.ReadTimeout, config.DefaultReadTimeout),
		IdleTimeout:       orDur(s.IdleTimeout, config.DefaultIdleTimeout),
		MaxHeaderBytes:    orInt(s.MaxHeaderBytes, config.DefaultMaxHeaderBytes),
		ConnState:         netguard.ClearWriteDeadlineOnIdle,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
		ConnContext:       connTLSContext,
	}
}

// h2Server is the server of HTTP/2 connections behind rampart's TLS (see
// tlsSplit): srv's settings and handler, HTTP/2 only, and twice the
// header limit so that h2HeaderGuard, not Go's plain-text page, answers
// the 431.
func h2Server(srv *http.Server) *http.Server {
	p := new(http.Protocols)
	p.SetHTTP2(true)
	return &http.Server{
		Handler:           srv.Handler,
		ReadHeaderTimeout: srv.ReadHeaderTimeout,
		ReadTimeout:       srv.ReadTimeout,
		IdleTimeout:       srv.IdleTimeout,
		MaxHeaderBytes:    2 * srv.MaxHeaderBytes,
		ConnState:         srv.ConnState,
		ErrorLog:          srv.ErrorLog,
		Protocols:         p,
	}
}

// resolver builds the client-address resolver from server.trusted_proxies.
func (g *Gateway) resolver() (*netguard.Resolver, error) {
	ps, err := netguard.ParsePrefixes(g.cfg.Server.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("server.trusted_proxies%w", err)
	}
	return netguard.NewResolver(netguard.NewPrefixSet(ps)), nil
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Serve serves on ln until ctx ends. Connections over server.max_conns or
// server.max_conns_per_ip are closed at accept; with server.tls set the
// listener speaks TLS (files reloaded every tls.reload_interval). When ctx
// ends, /readyz turns 503, the listener closes, and in-flight requests and
// streams get cfg.Server.ShutdownGrace to finish before their connections
// are closed; finally the layers are closed.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	srv, err := g.server()
	if err != nil {
		_ = ln.Close()
		g.Close()
		return err
	}
	ln, h2ln, stopTLS, err := g.guardListener(ln, srv.ReadHeaderTimeout)
	if err != nil {
		_ = ln.Close()
		g.Close()
		return err
	}
	defer stopTLS()
	servers, listeners := []*http.Server{srv}, []net.Listener{ln}
	if h2ln != nil {
		servers, listeners = append(servers, h2Server(srv)), append(listeners, h2ln)
	}
	errc := make(chan error, len(servers))
	for i := range servers {
		go func() { errc <- servers[i].Serve(listeners[i]) }()
	}
	select {
	case err = <-errc:
		for _, s := range servers {
			_ = s.Close()
		}
		for range len(servers) - 1 {
			<-errc
		}
	case <-ctx.Done():
		g.ready.Store(false)
		grace := orDur(g.cfg.Server.ShutdownGrace, config.DefaultShutdownGrace)
		g.log.Info("shutting down", "grace", grace.String())
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Shutdown(sctx); err != nil {
					g.log.Warn("shutdown grace over; closing remaining connections", "error", err.Error())
					_ = s.Close()
				}
			}()
		}
		wg.Wait()
		cancel()
		for range servers {
			<-errc
		}
		err = nil
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	g.Close()
	return err
}

// guardListener wraps ln with the connection caps and, when configured,
// TLS; then out serves HTTP/1.1 and h2 (non-nil only with TLS) the
// connections that negotiated HTTP/2 (see tlsSplit). stop ends the
// certificate reloader. On error ln is returned as is.
func (g *Gateway) guardListener(ln net.Listener, handshakeTimeout time.Duration) (out, h2 net.Listener, stop func(), err error) {
	s := g.cfg.Server
	res, err := g.resolver()
	if err != nil {
		return ln, nil, nil, err
	}
	m, err := netguard.NewListenerMetrics(g.reg)
	if err != nil {
		return ln, nil, nil, err
	}
	limited := netguard.LimitListener(ln, netguard.ConnLimits{
		PerIP:  orInt(s.MaxConnsPerIP, config.DefaultMaxConnsPerIP),
		Total:  orInt(s.MaxConns, config.DefaultMaxConns),
		Exempt: res.Trusted, Metrics: m,
	})
	if !s.TLS.Enabled() {
		return jsonErrorListener{limited}, nil, func() {}, nil
	}
	tm, err := tlsserve.NewMetrics(g.reg)
	if err != nil {
		return ln, nil, nil, err
	}
	minVersion := uint16(tls.VersionTLS12)
	if s.TLS.MinVersion == "1.3" {
		minVersion = tls.VersionTLS13
	}
	r, err := tlsserve.Load(tlsserve.Options{
		CertFile: s.TLS.CertFile, KeyFile: s.TLS.KeyFile, ClientCAFile: s.TLS.ClientCAFile,
		MinVersion: minVersion, ReloadInterval: orDur(s.TLS.ReloadInterval, config.DefaultTLSReload),
		Logger: g.log, Metrics: tm,
	})
	if err != nil {
		return ln, nil, nil, err
	}
	r.Start()
	leaf := r.Leaf()
	g.log.Info("serving HTTPS", "subject", leaf.Subject.String(), "not_after", leaf.NotAfter.UTC().Format("2006-01-02T15:04:05Z"),
		"min_version", "TLS "+orStr(s.TLS.MinVersion, config.DefaultTLSMinVersion), "client_certificates_required", s.TLS.ClientCAFile != "")
	split := newTLSSplit(limited, r.Config(), handshakeTimeout)
	return split.H1(), split.H2(), func() { _ = split.Close(); _ = r.Close() }, nil
}

func orStr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
