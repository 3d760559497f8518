package gateway

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/metrics"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/provider/anthropic"
	"github.com/rampart-ai/rampart/provider/openai"
)

// Gateway is rampart's HTTP server.
type Gateway struct {
	cfg      *config.Config
	log      *slog.Logger
	reg      *prometheus.Registry
	eng      *engine.Engine
	closers  []io.Closer
	mux      map[string]*entry
	demo     bool
	ready    atomic.Bool
	closeMu  sync.Mutex
	closed   bool
	adapters map[string]provider.Adapter

	store   Store             // nil for a gateway built WithLayers
	ident   *identity.Service // nil when the identity layer is off
	admin   http.Handler      // the admin API (nil without identity)
	scanner *scan.Scanner     // POST /v1/scan (nil for a gateway built WithLayers)
}

type entry struct {
	route   Route
	adapter provider.Adapter
	h       http.Handler
}

type options struct {
	log      *slog.Logger
	rec      engine.Recorder
	obs      engine.Observer
	obsFn    func(prometheus.Registerer) engine.Observer
	layers   []engine.Configured
	layersOK bool
	getenv   func(string) string
	key      []byte
	services map[string]any

	store        Store
	bootstrapOut io.Writer
}

// Option changes how New builds the gateway.
type Option func(*options)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRecorder sets the audit recorder that receives every transaction.
func WithRecorder(r engine.Recorder) Option { return func(o *options) { o.rec = r } }

// WithObserver sets the metrics observer.
func WithObserver(ob engine.Observer) Option { return func(o *options) { o.obs = ob } }

// WithObserverFunc builds the metrics observer on the gateway's own
// Prometheus registry (e.g. metrics.New).
func WithObserverFunc(f func(prometheus.Registerer) engine.Observer) Option {
	return func(o *options) { o.obsFn = f }
}

// WithLayers replaces the chain built from layers.Chain and the config
// (for tests and embedders). The caller provisions and closes them.
func WithLayers(ls ...engine.Configured) Option {
	return func(o *options) { o.layers, o.layersOK = ls, true }
}

// WithGetenv sets how upstream credentials are looked up (default os.Getenv).
func WithGetenv(f func(string) string) Option { return func(o *options) { o.getenv = f } }

// WithContentKey sets the key of the content HMAC in audit records
// (default: random per process).
func WithContentKey(k []byte) Option { return func(o *options) { o.key = k } }

// WithServices adds shared services handed to layers at Provision time.
func WithServices(s map[string]any) Option { return func(o *options) { o.services = s } }

// New builds the gateway from cfg: adapters, upstreams (or the demo model),
// the layer chain (New, Provision, Validate for each module of
// layers.Chain), metrics and routes.
func New(cfg *config.Config, opts ...Option) (*Gateway, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	o := options{log: slog.Default(), getenv: os.Getenv}
	for _, f := range opts {
		f(&o)
	}
	g := &Gateway{cfg: cfg, log: o.log, reg: prometheus.NewRegistry(), mux: map[string]*entry{},
		adapters: map[string]provider.Adapter{"openai": openai.New(), "anthropic": anthropic.New()}}
	g.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	obs := o.obs
	if obs == nil && o.obsFn != nil {
		obs = o.obsFn(g.reg)
	}
	if obs == nil {
		obs = metrics.New(g.reg)
	}

	// A gateway built from config opens its store (embedded SQLite under
	// the data directory unless WithStore), audit log and shared services;
	// one built WithLayers (tests, embedders) gets only what it is given.
	chain := o.layers
	if !o.layersOK {
		host := &engine.Host{Logger: g.log, Registerer: g.reg, DataDir: cfg.DataDir, Services: map[string]any{}}
		for k, v := range o.services {
			host.Services[k] = v
		}
		if err := g.openStack(cfg, &o, host); err != nil {
			g.closeLayers()
			return nil, err
		}
		built, closers, err := buildChain(cfg, host)
		g.closers = append(g.closers, closers...)
		if err != nil {
			g.closeLayers()
			return nil, err
		}
		chain = built
		if err := g.openServices(cfg, &o, host, chain); err != nil {
			g.closeLayers()
			return nil, err
		}
	}

	p := &proxy{obs: obs}
	for _, uc := range cfg.Upstreams {
		u, err := newUpstream(uc, o.getenv)
		if err != nil {
			g.closeLayers()
			return nil, err
		}
		if u.key == "" {
			g.log.Warn("upstream has no credential; requests go without one", "upstream", u.name, "env", uc.APIKeyEnv)
		}
		p.ups = append(p.ups, u)
	}
	g.demo = len(p.ups) == 0

	var routes []engine.Route
	for _, rt := range routeTable {
		if rt.API {
			routes = append(routes, engine.Route{Path: rt.Path, Kind: rt.Kind, Adapter: g.adapters[rt.Provider]})
		}
	}
	eng, err := engine.New(engine.Options{
		Layers:           chain,
		Routes:           routes,
		Recorder:         o.rec,
		Observer:         obs,
		MaxBodyBytes:     cfg.Server.MaxBodyBytes,
		MaxResponseBytes: cfg.Server.MaxResponseBytes,
		ContentKey:       o.key,
		Logger:           g.log,
	})
	if err != nil {
		g.closeLayers()
		return nil, err
	}
	g.eng = eng
	for i, rt := range routeTable {
		e := &entry{route: routeTable[i], adapter: g.adapters[rt.Provider]}
		switch {
		case rt.API:
			var up engine.Upstream = providerUpstream{p: p, provider: rt.Provider}
			if g.demo {
				up = demo{}
			}
			e.h = eng.Handler(engine.Route{Path: rt.Path, Kind: rt.Kind, Adapter: e.adapter}, up)
		case rt.Path == "/healthz":
			e.h = http.HandlerFunc(g.healthz)
		case rt.Path == "/readyz":
			e.h = http.HandlerFunc(g.readyz)
		case rt.Path == "/metrics":
			e.h = g.protect(promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{Registry: g.reg}))
		case rt.Path == "/v1/scan":
			if g.scanner == nil {
				continue // a gateway built WithLayers has no scanner
			}
			e.h = g.protect(http.HandlerFunc(g.scanHTTP))
		case rt.Admin:
			continue // served by prefix below
		}
		if e.adapter == nil {
			e.adapter = g.adapters["openai"]
		}
		g.mux[rt.Path] = e
	}
	g.ready.Store(true)
	return g, nil
}

// Demo reports whether the built-in demo model answers (no upstreams).
func (g *Gateway) Demo() bool { return g.demo }

// Registry is the gateway's Prometheus registry, served on /metrics.
func (g *Gateway) Registry() *prometheus.Registry { return g.reg }

// Engine is the gateway's engine.
func (g *Gateway) Engine() *engine.Engine { return g.eng }

// Handler returns the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g }

// ServeHTTP routes a request: unknown paths answer 404, wrong methods 405,
// both in the OpenAI error shape (Anthropic's on /v1/messages).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, ok := g.mux[r.URL.Path]
	if !ok && strings.HasPrefix(r.URL.Path, "/admin/") {
		w.Header().Set("X-Request-Id", engine.NewRequestID())
		g.adminHandler(w, r)
		return
	}
	if !ok {
		g.fail(w, g.adapters["openai"], http.StatusNotFound, "not_found", "unknown route "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Method != e.route.Method && !(r.Method == http.MethodHead && e.route.Method == http.MethodGet) {
		w.Header().Set("Allow", e.route.Method)
		g.fail(w, e.adapter, http.StatusMethodNotAllowed, "method_not_allowed",
			"method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+e.route.Method)
		return
	}
	// API routes need no HTTP/1 full duplex (golang/go#40747): the engine
	// reads the whole request body before it writes a byte of the answer,
	// and a request refused before its body is read (the headers phase)
	// gets the server's usual discard-or-close handling. Full duplex there
	// would leave the server reading the unread body in the background
	// while the next request on the connection starts.
	if !e.route.API {
		w.Header().Set("X-Request-Id", engine.NewRequestID())
	}
	e.h.ServeHTTP(w, r)
}

func (g *Gateway) fail(w http.ResponseWriter, a provider.Adapter, status int, code, msg string) {
	body := a.ErrorBody(status, code, msg, "")
	h := w.Header()
	h.Set("X-Request-Id", engine.NewRequestID())
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"ok"}`)
}

func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !g.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"shutting down"}`)
		return
	}
	_, _ = io.WriteString(w, `{"status":"ready"}`)
}

// Close releases the layers' resources. It is safe to call more than once.
func (g *Gateway) Close() error {
	g.closeMu.Lock()
	defer g.closeMu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	g.ready.Store(false)
	return g.closeLayers()
}

func (g *Gateway) closeLayers() error {
	var errs []error
	for i := len(g.closers) - 1; i >= 0; i-- {
		if err := g.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	g.closers = nil
	return errors.Join(errs...)
}
