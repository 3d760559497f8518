package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/gateway"
	"github.com/rampart-ai/rampart/layers"
)

func init() {
	register("serve", "run the gateway (demo model when no upstream is configured)", runServe)
}

func runServe(env *Env) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	listen := fs.String("listen", "", "address to listen on (default "+config.DefaultListen+")")
	upstream := fs.String("upstream", "", "OpenAI-compatible base URL, e.g. https://api.openai.com/v1 (key from OPENAI_API_KEY)")
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	dataDir := fs.String("data", "", "data directory (default "+config.DefaultDataDir+")")
	var tf tlsFlags
	fs.StringVar(&tf.cert, "tls-cert", "", "serve HTTPS with this PEM certificate chain (server.tls.cert_file; reloaded when it changes)")
	fs.StringVar(&tf.key, "tls-key", "", "PEM private key of --tls-cert (server.tls.key_file)")
	fs.StringVar(&tf.clientCA, "client-ca", "", "require client certificates issued by this PEM CA bundle (mTLS; server.tls.client_ca_file)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: rampart serve [--listen ADDR] [--upstream URL] [--config FILE] [--data DIR] [--tls-cert FILE --tls-key FILE [--client-ca FILE]]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(env.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "rampart serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := serveConfig(*cfgPath, *listen, *upstream, *dataDir)
	if err == nil {
		err = tf.apply(cfg)
	}
	if err == nil {
		err = layers.Check(cfg) // what `config validate` checks, before anything is opened
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart serve:", err)
		return 2
	}
	log := newLogger(env.Stderr, cfg.Log)
	// Take the port first: a busy port must stop serve before it creates a
	// data directory or store, or prints a bootstrap admin key nobody can use.
	addr := cfg.Server.Listen
	if addr == "" {
		addr = config.DefaultListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("cannot listen", "listen", addr, "error", err.Error())
		return 1
	}
	defer ln.Close() // Serve closes it too; this covers the early returns
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		log.Error("cannot create data directory", "dir", cfg.DataDir, "error", err.Error())
		return 1
	}
	reload := func() (*config.Config, error) {
		c, err := serveConfig(*cfgPath, *listen, *upstream, *dataDir)
		if err != nil {
			return nil, err
		}
		return c, tf.apply(c)
	}
	g, err := gateway.New(cfg, gateway.WithLogger(log), gateway.WithConfigLoader(reload))
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := g.WatchConfig(ctx, *cfgPath); err != nil { // SIGHUP and file changes reload the policy
		log.Warn("config file watcher not started; SIGHUP still reloads", "error", err.Error())
	}
	attrs := []any{"listen", ln.Addr().String(), "tls", cfg.Server.TLS.Enabled(), "demo_model", g.Demo(), "layers", g.Engine().Layers(), "data_dir", cfg.DataDir}
	for _, u := range cfg.Upstreams {
		attrs = append(attrs, "upstream_"+u.Name, u.BaseURL)
	}
	log.Info("rampart listening", attrs...)
	if g.Demo() {
		log.Warn("no upstream configured: the built-in demo model (" + gateway.DemoModel + ") answers with canned, labelled echoes; use --upstream or a config file to reach a real model")
	}
	if err := g.Serve(ctx, ln); err != nil {
		log.Error("server failed", "error", err.Error())
		return 1
	}
	log.Info("stopped")
	return 0
}

// serveConfig loads the file (or the embedded default policy), with the
// RAMPART_* environment overrides applied, then the flags, which win.
func serveConfig(path, listen, upstream, dataDir string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if listen != "" {
		cfg.Server.Listen = listen
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if upstream != "" {
		u, err := url.Parse(upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--upstream %q: want an http(s) base URL such as https://api.openai.com/v1", upstream)
		}
		cfg.Upstreams = []config.Upstream{{
			Name: "openai", Provider: "openai", BaseURL: upstream, APIKeyEnv: "OPENAI_API_KEY",
			Timeout: config.DefaultUpstreamTimeout, StreamIdleTimeout: config.DefaultStreamIdleTimeout,
			ConnectTimeout: config.DefaultConnectTimeout,
		}}
	}
	return cfg, nil
}

// tlsFlags are --tls-cert, --tls-key and --client-ca; they win over the
// file's server.tls.
type tlsFlags struct{ cert, key, clientCA string }

// apply sets the flags given into cfg and validates the result.
func (f tlsFlags) apply(cfg *config.Config) error {
	if f.cert == "" && f.key == "" && f.clientCA == "" {
		return nil
	}
	if f.cert != "" {
		cfg.Server.TLS.CertFile = f.cert
	}
	if f.key != "" {
		cfg.Server.TLS.KeyFile = f.key
	}
	if f.clientCA != "" {
		cfg.Server.TLS.ClientCAFile = f.clientCA
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("--tls-cert/--tls-key/--client-ca: %w", err)
	}
	return nil
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
