package gateway

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/internal/statuswriter"
	"github.com/rampart-ai/rampart/layers"
	"github.com/rampart-ai/rampart/layers/blocklist"
	"github.com/rampart-ai/rampart/layers/network"
	"github.com/rampart-ai/rampart/mcpgw"
	"github.com/rampart-ai/rampart/metrics"
	"github.com/rampart-ai/rampart/netguard"
	"github.com/rampart-ai/rampart/pricing"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/provider/anthropic"
	"github.com/rampart-ai/rampart/provider/gemini"
	"github.com/rampart-ai/rampart/provider/openai"
)

// Gateway is rampart's HTTP server.
//
// What is built from the policy (layer chain, engine, upstreams, routes,
// the /v1/scan scanner) forms a generation; Reload swaps in a new one
// atomically while requests and streams in flight finish on the one they
// started on. The store, audit log, identity service, Prometheus registry
// and listener are opened once and survive reloads.
type Gateway struct {
	cfg      *config.Config // as started: the restart-only settings in force
	log      *slog.Logger
	reg      *prometheus.Registry
	closers  []io.Closer // store and audit log, closed after the last generation
	ready    atomic.Bool
	closeMu  sync.Mutex
	closed   bool
	adapters map[string]provider.Adapter

	store   Store             // nil for a gateway built WithLayers
	ident   *identity.Service // nil when the identity layer is off
	admin   http.Handler      // the admin API (nil without identity)
	gate    admin.Gate        // the blocklist for non-engine routes (nil: blocklist off)
	alog    *audit.Log        // the audit log opened from config (nil: none, or a given recorder)
	scanner *scan.Scanner     // set by openServices; moved into the first generation

	// revalidatePeriod is how often running requests check their
	// credential again (revalidate.go; 0: revalidateEvery).
	revalidatePeriod time.Duration

	consoleOnce sync.Once    // the admin console (console.go), built at first use
	console     http.Handler // nil until then, or when it could not be built
	// contentOpener opens captured audit content for the admin API (set
	// with audit.capture_content; secrets.go).
	contentOpener audit.ContentCipher

	// What every generation is built with.
	obs engine.Observer
	// mcpMetrics are the MCP proxy's metrics, kept across reloads.
	mcpMetrics *mcpgw.Metrics
	rec        engine.Recorder
	key        []byte
	getenv     func(string) string
	fixed      []engine.Configured // WithLayers: a fixed chain, no reload
	fixedOK    bool
	// pool holds the services shared across generations (store, identity
	// service, block cache, incident responder, limiter state, ...), each
	// reference counted: every generation holds its layers' references
	// (gen.svc, released when it is closed) and the gateway its own
	// (own: what openStack opened and what the admin API uses, released
	// by Close).
	pool      *engine.Pool
	own       *engine.Services
	blocks    *blocklist.Cache    // the shared block cache (nil: blocklist off at start)
	responder *incident.Responder // the incident responder (nil: incident response off)
	collected *sharedCollectors
	health    *healthSet // upstream breakers and calls in flight, across reloads

	cur      atomic.Pointer[generation]
	nextID   atomic.Uint64
	reload   reloadState
	draining sync.WaitGroup // replaced generations not yet closed
	drainTO  time.Duration  // longest wait for a retired generation's requests
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

	store        Store
	bootstrapOut io.Writer
	loader       func() (*config.Config, error)
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

// WithConfigLoader sets how Reload (SIGHUP, file change) reads the
// configuration again: the same file, environment overrides and flags the
// gateway was started with. Without it Reload has nothing to load.
func WithConfigLoader(load func() (*config.Config, error)) Option {
	return func(o *options) { o.loader = load }
}

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
	g := &Gateway{cfg: cfg, log: o.log, reg: prometheus.NewRegistry(),
		adapters: map[string]provider.Adapter{"openai": openai.New(), "anthropic": anthropic.New(), "gemini": gemini.New()},
		getenv:   o.getenv, fixed: o.layers, fixedOK: o.layersOK,
		pool: engine.NewPool(), drainTO: DefaultDrainTimeout}
	g.own = g.pool.Holder()
	g.collected = newSharedCollectors(g.reg)
	g.health = newHealthSet(g.reg)
	g.mcpMetrics = mcpgw.NewMetrics()
	if err := g.mcpMetrics.Register(g.reg); err != nil {
		return nil, err
	}
	g.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	g.reload.init(g.reg, o.loader)
	obs := o.obs
	if obs == nil && o.obsFn != nil {
		obs = o.obsFn(g.reg)
	}
	if obs == nil {
		obs = metrics.New(g.reg)
	}
	g.obs = obs

	// A gateway built from config opens its store (embedded SQLite under
	// the data directory unless WithStore), audit log and shared services;
	// one built WithLayers (tests, embedders) gets only what it is given.
	var first *generation
	if g.fixedOK {
		g.rec, g.key = o.rec, o.key
		gen, err := g.newGeneration(cfg, g.fixed, nil, nil)
		if err != nil {
			return nil, err
		}
		first = gen
	} else {
		// Check first, as `rampart config validate` does: a refused
		// configuration opens no store and prints no bootstrap key.
		if err := layers.Check(cfg); err != nil {
			return nil, err
		}
		reg := g.collected.forGeneration()
		svc := g.pool.Holder() // the first generation's references
		host := &engine.Host{Logger: g.log, Registerer: reg, DataDir: cfg.DataDir, Services: svc}
		fail := func(err error, closers []io.Closer) (*Gateway, error) {
			closeAll(closers)
			svc.Release()
			reg.release()
			g.closeAll()
			return nil, err
		}
		if err := g.openStack(cfg, &o, host); err != nil {
			return fail(err, nil)
		}
		g.rec, g.key = o.rec, o.key
		chain, closers, err := buildChain(cfg, host)
		if err != nil {
			return fail(err, closers)
		}
		if err := g.openServices(cfg, &o, chain); err != nil {
			return fail(err, closers)
		}
		// From here on each generation has its own scanner.
		sc := g.scanner
		g.scanner = nil
		gen, err := g.newGeneration(cfg, chain, closers, sc) // closes closers on error
		if err != nil {
			return fail(err, nil)
		}
		gen.reg, gen.svc = reg, svc
		first = gen
	}
	g.cur.Store(first)
	g.reload.loaded(first, nil)
	g.ready.Store(true)
	return g, nil
}

// newGeneration builds the engine, upstreams and routes over a provisioned
// chain. closers are the chain's layers (closed with the generation, also
// when this fails); sc is the /v1/scan scanner (nil: no /v1/scan route).
func (g *Gateway) newGeneration(cfg *config.Config, chain []engine.Configured, closers []io.Closer, sc *scan.Scanner) (*generation, error) {
	gen := &generation{id: g.nextID.Add(1), cfg: cfg, mux: map[string]*entry{}, scanner: sc,
		closers: closers, drained: make(chan struct{})}
	for _, c := range chain {
		if l, ok := c.Layer.(ipAllower); ok && (c.Mode == "" || c.Mode == engine.ModeEnforce) {
			gen.ipGuard = l
		}
	}
	p := &proxy{obs: g.obs, routing: cfg.Routing, health: g.health, log: g.log}
	for _, uc := range cfg.Upstreams {
		u, err := newUpstream(uc, g.getenv)
		if err != nil {
			closeAll(gen.closers)
			return nil, err
		}
		u.health = g.health.get(u.name, cfg.Routing.Breaker)
		if u.key == "" && u.auth.mode != "entra" {
			g.log.Warn("upstream has no credential; requests go without one", "upstream", u.name, "env", uc.APIKeyEnv)
		}
		p.ups = append(p.ups, u)
		gen.closers = append(gen.closers, idleCloser{u.rt})
	}
	gen.demo = len(p.ups) == 0
	prices, err := pricing.New(cfg.Pricing)
	if err != nil {
		closeAll(gen.closers)
		return nil, err
	}

	var routes []engine.Route
	for _, rt := range routeTable {
		if rt.API {
			routes = append(routes, engineRoute(rt, g.adapters[rt.Provider]))
		}
	}
	eng, err := engine.New(engine.Options{
		Layers:           chain,
		Routes:           routes,
		Recorder:         g.rec,
		Observer:         g.obs,
		Pricer:           prices,
		MaxBodyBytes:     cfg.Server.MaxBodyBytes,
		MaxResponseBytes: cfg.Server.MaxResponseBytes,
		ContentKey:       g.key,
		Logger:           g.log,
	})
	if err != nil {
		closeAll(gen.closers)
		return nil, err
	}
	gen.eng = eng
	mg, err := g.newMCP(cfg, chain, gen.scanner)
	if err != nil {
		closeAll(gen.closers)
		return nil, err
	}
	if mg != nil {
		gen.mcp = mg
		gen.closers = append(gen.closers, mg)
	}
	for i, rt := range routeTable {
		e := &entry{route: routeTable[i], adapter: g.adapters[rt.Provider]}
		switch {
		case rt.API:
			var up engine.Upstream = providerUpstream{p: p, provider: rt.Provider}
			if gen.demo {
				up = demo{}
			}
			e.h = eng.Handler(engineRoute(rt, e.adapter), up)
		case rt.Path == "/healthz":
			e.h = http.HandlerFunc(g.healthz)
		case rt.Path == "/readyz":
			e.h = http.HandlerFunc(g.readyz)
		case rt.Path == "/metrics":
			e.h = g.protect(promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{Registry: g.reg}))
		case rt.Path == "/v1/scan":
			if gen.scanner == nil {
				continue // a gateway built WithLayers has no scanner
			}
			h, err := g.scanHandler(gen, chain)
			if err != nil {
				closeAll(gen.closers)
				return nil, err
			}
			e.h = h
		case rt.Admin, rt.MCP:
			continue // served by prefix below
		}
		if e.adapter == nil {
			e.adapter = g.adapters["openai"]
		}
		gen.mux[rt.Path] = e
	}
	return gen, nil
}

// engineRoute is the engine's view of an API route.
func engineRoute(rt Route, a provider.Adapter) engine.Route {
	er := engine.Route{Path: rt.Path, Kind: rt.Kind, Adapter: a}
	if _, azure := azureRouteSet[rt.Path]; azure {
		er.FromRequest = azureDeploymentModel
	}
	if rt.Provider == "gemini" {
		er.FromRequest = geminiFromRequest
		if rt.Path == geminiStream {
			er.ArrayStream = geminiArrayStream
		}
	}
	return er
}

// idleCloser closes an upstream transport's idle connections when its
// generation is retired.
type idleCloser struct{ rt http.RoundTripper }

func (c idleCloser) Close() error {
	if t, ok := c.rt.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// Demo reports whether the built-in demo model answers (no upstreams) in
// the configuration in force.
func (g *Gateway) Demo() bool {
	if gen := g.cur.Load(); gen != nil {
		return gen.demo
	}
	return false
}

// Registry is the gateway's Prometheus registry, served on /metrics.
func (g *Gateway) Registry() *prometheus.Registry { return g.reg }

// Engine is the engine of the configuration in force (nil once closed).
func (g *Gateway) Engine() *engine.Engine {
	if gen := g.cur.Load(); gen != nil {
		return gen.eng
	}
	return nil
}

// Handler returns the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g }

// ServeHTTP routes a request: unknown paths answer 404, wrong methods 405,
// both in the OpenAI error shape (Anthropic's on /v1/messages). The request
// runs to its end (a stream to its last event) on the generation it
// started on, whatever reloads happen meanwhile.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	gen := g.acquire()
	if gen == nil {
		w.Header().Set("Retry-After", "1")
		g.fail(w, g.adapters["openai"], http.StatusServiceUnavailable, "shutting_down", "the gateway is shutting down")
		return
	}
	defer gen.release()
	// The engine applies the network layer's IP lists to the model routes;
	// the other routes (admin API, metrics, scan) get the same lists here.
	// Health probes stay open to the orchestrator.
	if gen.ipGuard != nil && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && !isEngineRoute(gen, r.URL.Path) &&
		!(gen.mcp != nil && isMCPPath(r.URL.Path)) &&
		!gen.ipGuard.Allowed(netguard.ClientIP(r)) {
		g.fail(w, g.adapters["openai"], http.StatusForbidden, network.Code, "requests from this network address are not allowed")
		return
	}
	if strings.HasPrefix(r.URL.Path, azureClientPrefix) {
		var ok bool
		if r, ok = azureClientPath(r); !ok {
			g.fail(w, g.adapters["openai"], http.StatusNotFound, "not_found",
				"unknown route "+r.Method+" "+r.URL.Path+": rampart serves the Azure OpenAI deployment routes chat/completions, completions and embeddings")
			return
		}
	}
	rp, idOK := routePath(r.URL.Path)
	if !idOK {
		g.fail(w, g.pathAdapter(r.URL.Path), http.StatusNotFound, "model_not_found", "the model id in the path is not valid")
		return
	}
	e, ok := gen.mux[rp]
	if !ok && gen.mcp != nil && isMCPPath(r.URL.Path) {
		r, stop := g.revalidate(r)
		defer stop()
		gen.mcp.ServeHTTP(w, r)
		return
	}
	if !ok && isConsolePath(r.URL.Path) {
		w.Header().Set("X-Request-Id", engine.NewRequestID())
		g.consoleHandler(w, r)
		return
	}
	if !ok && strings.HasPrefix(r.URL.Path, "/admin/") {
		w.Header().Set("X-Request-Id", engine.NewRequestID())
		g.adminHandler(w, r)
		return
	}
	if !ok {
		g.fail(w, g.pathAdapter(r.URL.Path), http.StatusNotFound, "not_found", "unknown route "+r.Method+" "+r.URL.Path)
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
	if e.route.Provider == "gemini" && !g.geminiKey(w, r, e.adapter) {
		return
	}
	raw := r.Body
	if !g.decodeRequest(w, r, e.adapter, gen.cfg.Server.MaxBodyBytes) {
		return
	}
	if !e.route.API {
		w.Header().Set("X-Request-Id", engine.NewRequestID())
	}
	// A stream outlives a revocation or block of its key no longer than
	// one revalidation period.
	r, stop := g.revalidate(r)
	defer stop()
	if r.ContentLength == 0 || raw == nil || raw == http.NoBody {
		e.h.ServeHTTP(w, r)
		return
	}
	dw := &statuswriter.Writer{ResponseWriter: w}
	e.h.ServeHTTP(dw, r)
	if dw.Status == http.StatusRequestEntityTooLarge {
		limit := gen.cfg.Server.MaxBodyBytes
		if limit <= 0 {
			limit = config.DefaultMaxBodyBytes
		}
		drainAfter413(w, raw, 4*limit)
	}
}

// pathAdapter is the adapter whose error shape answers a path that matches
// no route: Google's under /v1beta/ (Gemini clients), else OpenAI's.
func (g *Gateway) pathAdapter(p string) provider.Adapter {
	if strings.HasPrefix(p, "/v1beta/") {
		return g.adapters["gemini"]
	}
	return g.adapters["openai"]
}

// isEngineRoute reports whether path is a model route, where the engine
// runs the network layer itself (and audits the refusal).
func isEngineRoute(gen *generation, path string) bool {
	path, _ = routePath(path)
	e, ok := gen.mux[path]
	return ok && e.route.API
}

// acquire pins the generation in force for one request; nil once the
// gateway is closed.
func (g *Gateway) acquire() *generation {
	for {
		gen := g.cur.Load()
		if gen == nil {
			return nil
		}
		if gen.tryAcquire() {
			return gen
		}
		// Retired between Load and tryAcquire: its successor (or nil,
		// once closed) is already in g.cur.
	}
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

// readyz answers 200 while the gateway serves, with the state of the
// configuration (see readyBody); 503 once it is shutting down. A failed
// reload does not make the gateway unready: the previous configuration
// keeps serving.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	status := "ready"
	if !g.ready.Load() {
		status = "shutting down"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	body := readyBody{Status: status, Config: g.reload.status()}
	if gen := g.cur.Load(); gen != nil && len(gen.cfg.Upstreams) > 0 {
		names := make(map[string]bool, len(gen.cfg.Upstreams))
		for _, u := range gen.cfg.Upstreams {
			names[cmp.Or(u.Name, u.Provider)] = true
		}
		body.Upstreams = g.health.status(names)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// Close retires the configuration in force, waits (bounded) for its
// requests to end, and releases the layers, shared services, audit log and
// store. It is safe to call more than once.
func (g *Gateway) Close() error {
	g.closeMu.Lock()
	defer g.closeMu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	g.ready.Store(false)
	g.reload.mu.Lock() // no reload runs while (or after) closing
	defer g.reload.mu.Unlock()
	var errs []error
	if gen := g.cur.Swap(nil); gen != nil {
		gen.retire()
		errs = append(errs, g.drain(gen))
	}
	g.draining.Wait() // generations replaced by reloads, still finishing requests
	errs = append(errs, g.closeAll())
	return errors.Join(errs...)
}

// closeAll releases the gateway's references to shared services (after
// the last generation's, so the pool closes the identity service, the
// incident responder and the block cache here) and then closes what
// openStack opened (audit log, store, ...).
func (g *Gateway) closeAll() error {
	errs := []error{g.own.Release(), closeAll(g.closers)}
	g.closers = nil
	return errors.Join(errs...)
}

// closeAll closes cs in reverse order.
func closeAll(cs []io.Closer) error {
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
