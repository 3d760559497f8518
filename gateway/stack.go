package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/layers/blocklist"
	layeridentity "github.com/rampart-ai/rampart/layers/identity"
	"github.com/rampart-ai/rampart/provider/scanapi"
	"github.com/rampart-ai/rampart/store"
)

// Store is what the gateway keeps its state in: identities (keys, tenants)
// and the audit log. store/sqlite (the default, under the data directory)
// and store/postgres (for several replicas) implement it.
type Store interface {
	identity.Store
	store.AuditStore
	store.BlockStore // blocks every replica enforces (layers/blocklist)
}

// WithStore makes the gateway use st instead of opening the embedded SQLite
// database under cfg.DataDir. The caller keeps ownership and closes it.
func WithStore(st Store) Option { return func(o *options) { o.store = st } }

// WithBootstrapOutput sets where the first start of an empty store prints
// the generated global admin key (default os.Stderr).
func WithBootstrapOutput(w io.Writer) Option { return func(o *options) { o.bootstrapOut = w } }

// openStack opens the store and the audit log that a gateway built from
// config needs, unless the options supply them, and shares the store (and
// the block cache and incident responder, see openIncident) in the
// gateway's own holder of shared services.
func (g *Gateway) openStack(cfg *config.Config, o *options, host *engine.Host) error {
	if err := g.openTelemetry(cfg, host); err != nil {
		return err
	}
	st := o.store
	if st == nil {
		db, err := openStore(cfg, o.getenv)
		if err != nil {
			return err
		}
		g.closers = append(g.closers, db)
		st = db
	}
	st = boundStore(st, cfg.Store.Timeout, cfg.Store.StatementTimeout) // every store call bounded
	g.store = st
	// The store is closed by whoever opened it (g.closers, or the caller
	// of WithStore), after every generation is gone: the pool does not.
	if err := engine.Provide(g.own, layeridentity.StoreKey, identity.Store(st), nil); err != nil {
		return err
	}
	if err := engine.Provide(g.own, blocklist.StoreKey, store.BlockStore(st), nil); err != nil {
		return err
	}
	if o.key == nil {
		key, err := audit.ContentKey(cfg.Audit, cfg.DataDir)
		if err != nil {
			return fmt.Errorf("audit key: %w", err)
		}
		o.key = key
	}
	if o.rec == nil && cfg.Audit.IsEnabled() {
		alog, err := audit.New(st, cfg.Audit, g.log)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		g.reg.MustRegister(alog)
		g.closers = append(g.closers, alog)
		if err := alog.EnableSpool(cfg.DataDir); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		o.rec = alog
		g.alog = alog
	}
	if err := g.openDataProtection(cfg, o, st); err != nil {
		return err
	}
	// After openDataProtection, which needs o.rec to be the audit log itself.
	return g.openIncident(cfg, o)
}

// openServices wires what needs the provisioned chain: the identity
// service (bootstrap admin key, admin API, authentication of the
// non-proxied routes; the gateway takes its own reference, so it outlives
// the first generation) and the scanner behind POST /v1/scan.
func (g *Gateway) openServices(cfg *config.Config, o *options, chain []engine.Configured) error {
	if svc, ok := engine.Use(g.own, layeridentity.ServiceKey); ok {
		g.ident = svc
		g.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rampart_identity_cache_grace_total",
			Help: "Authentications served from the identity cache past its ttl because the store could not be reached (layers.identity.cache_grace)."},
			func() float64 { return float64(svc.Graced()) }))
		out := o.bootstrapOut
		if out == nil {
			out = os.Stderr
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := identity.Bootstrap(ctx, svc, out); err != nil {
			return fmt.Errorf("bootstrap admin key: %w", err)
		}
		opts := append(g.adminOptions(o), g.adminBlocks(cfg), admin.WithPolicies(g.policyKnown))
		if ps, ok := g.store.(store.MCPToolStore); ok {
			opts = append(opts, admin.WithMCPTools(ps))
		}
		if cfg.Audit.IsEnabled() {
			opts = append(opts, admin.WithAudit(g.store))
			if ss, ok := g.store.(store.SpendStore); ok {
				opts = append(opts, admin.WithSpend(ss))
			}
			if fs, ok := g.store.(store.FeedbackStore); ok {
				opts = append(opts, admin.WithFeedback(fs))
			}
		}
		if g.blocks != nil {
			g.gate = blockGate(g.blocks)
			opts = append(opts, admin.WithGate(g.gate))
		}
		g.admin = admin.NewHandler(g.store, svc, g.log, opts...)
	}
	sc, err := chainScanner(cfg, chain)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	g.scanner = sc
	return nil
}

// chainScanner builds the scanner behind POST /v1/scan for one generation.
// It uses the chain's own provisioned detector and output guard (same
// config sections), so they are not loaded twice.
func chainScanner(cfg *config.Config, chain []engine.Configured) (*scan.Scanner, error) {
	ls := make([]engine.Layer, len(chain))
	for i, c := range chain {
		ls[i] = c.Layer
	}
	return scan.FromChain(cfg, ls)
}

// protect wraps h with authentication and the permission table when the
// identity layer runs; without it (identity mode off) h is served as is,
// like the model routes.
func (g *Gateway) protect(h http.Handler) http.Handler {
	if g.ident == nil {
		return h
	}
	var gates []admin.Gate
	if g.gate != nil {
		gates = append(gates, g.gate)
	}
	return admin.RequirePermission(g.ident, g.log, func(w http.ResponseWriter, r *http.Request, _ *identity.Principal) {
		h.ServeHTTP(w, r)
	}, gates...)
}

// policyKnown reports whether the configuration in force defines a
// policy named name (admin.WithPolicies).
func (g *Gateway) policyKnown(name string) bool {
	cfg := g.cfg
	if gen := g.cur.Load(); gen != nil {
		cfg = gen.cfg
	}
	for _, n := range policyNames(cfg) {
		if n == name {
			return true
		}
	}
	return false
}

// adminHandler serves /admin/...; without the identity layer there is no
// way to authenticate an administrator, so the admin API is closed.
func (g *Gateway) adminHandler(w http.ResponseWriter, r *http.Request) {
	if g.admin == nil {
		g.fail(w, g.adapters["openai"], http.StatusServiceUnavailable, "admin_unavailable",
			"the admin API needs the identity layer (layers.identity.mode is off)")
		return
	}
	g.admin.ServeHTTP(w, r)
}

// scanLayers are the layers of the chain that /v1/scan passes, in chain
// order: who is calling and may they (identity), blocks and throttles
// (blocklist) and rate limits (ratelimit), plus the size limits of
// inputpolicy (its ScanLimits view); the network layer's lists are applied
// by ServeHTTP. The content layers are not run: scanning the text is what
// the route answers, not a reason to refuse it.
var scanLayers = map[string]bool{"identity": true, "blocklist": true, "ratelimit": true}

// scanHandler serves POST /v1/scan through an engine of its own over the
// chain's identity, blocklist and ratelimit layers (the same provisioned
// layers the model routes use), with the body limit, the strict JSON reader
// (package scanapi) and the audit record of every call. The "upstream" is
// the generation's scanner.
func (g *Gateway) scanHandler(gen *generation, chain []engine.Configured) (http.Handler, error) {
	var ls []engine.Configured
	for _, c := range chain {
		if sl, ok := c.Layer.(interface{ ScanLimits() engine.Layer }); ok {
			c.Layer = sl.ScanLimits() // inputpolicy: its size limits only
		} else if !scanLayers[c.Layer.Name()] {
			continue
		}
		ls = append(ls, c)
	}
	route := engine.Route{Path: "/v1/scan", Kind: conv.KindChat, Adapter: scanapi.New()}
	eng, err := engine.New(engine.Options{
		Layers:       ls,
		Routes:       []engine.Route{route},
		Recorder:     g.rec,
		Observer:     g.obs,
		MaxBodyBytes: gen.cfg.Server.MaxBodyBytes,
		ContentKey:   g.key,
		Logger:       g.log,
	})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	return eng.Handler(route, engine.UpstreamFunc(func(tx *engine.Tx, r *http.Request, body []byte) (*http.Response, error) {
		return g.scanAnswer(gen, r, body)
	})), nil
}

// scanAnswer answers POST /v1/scan (with the scanner of the request's
// generation) with the same JSON as `rampart scan`: one result object for
// {"text": ...}, or {"results": [...]} for {"items": [...]}. "direction"
// (input or output, default input) may be given in the body or as a query
// parameter. body was read and checked by the engine.
func (g *Gateway) scanAnswer(gen *generation, r *http.Request, body []byte) (*http.Response, error) {
	bad := func(code, msg string) error {
		return &engine.HTTPError{Status: http.StatusBadRequest, Code: code, Message: msg}
	}
	req, err := scanapi.Parse(body)
	if err != nil {
		return nil, bad("invalid_json", err.Error())
	}
	dir := req.Direction
	if q := r.URL.Query().Get("direction"); q != "" {
		dir = q
	}
	if dir == "" {
		dir = scan.Input
	}
	if dir != scan.Input && dir != scan.Output {
		return nil, bad("invalid_direction", "direction must be input or output")
	}
	var out any
	if req.Single {
		res := gen.scanner.Scan(req.Items[0], dir)
		if res.Error != "" {
			return nil, bad("invalid_request", res.Error)
		}
		out = res
	} else {
		results := make([]scan.Result, len(req.Items))
		for i, it := range req.Items {
			results[i] = gen.scanner.Scan(it, dir)
		}
		out = struct {
			Results []scan.Result `json:"results"`
		}{results}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b))}, nil
}

// auditWriter is where administrative actions are audited: the audit log
// (which spools what the store cannot take), else the store directly (a
// gateway given its own recorder), else nowhere (audit off).
func (g *Gateway) auditWriter(cfg *config.Config) admin.AuditWriter {
	switch {
	case !cfg.Audit.IsEnabled():
		return nil
	case g.alog != nil:
		return g.alog
	}
	return g.store
}
