package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/layers"
	"github.com/rampart-ai/rampart/layers/blocklist"
	layeridentity "github.com/rampart-ai/rampart/layers/identity"
	"github.com/rampart-ai/rampart/layers/injection"
	"github.com/rampart-ai/rampart/layers/outputguard"
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
// config needs, unless the options supply them, and fills host.Services.
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
	g.store = st
	host.Services[layeridentity.ServiceStore] = st
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
		o.rec = alog
	}
	if err := g.openDataProtection(cfg, o, st); err != nil {
		return err
	}
	// After openDataProtection, which needs o.rec to be the audit log itself.
	return g.openIncident(cfg, o, host)
}

// openServices wires what needs the provisioned chain: the identity
// service (bootstrap admin key, admin API, authentication of the
// non-proxied routes) and the scanner behind POST /v1/scan.
func (g *Gateway) openServices(cfg *config.Config, o *options, host *engine.Host, chain []engine.Configured) error {
	if svc, ok := host.Services[layeridentity.ServiceIdentity].(*identity.Service); ok {
		g.ident = svc
		out := o.bootstrapOut
		if out == nil {
			out = os.Stderr
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := identity.Bootstrap(ctx, svc, out); err != nil {
			return fmt.Errorf("bootstrap admin key: %w", err)
		}
		opts := append(g.adminOptions(o), g.adminBlocks(cfg, host), admin.WithPolicies(g.policyKnown))
		if cfg.Audit.IsEnabled() {
			opts = append(opts, admin.WithAudit(g.store))
			if ss, ok := g.store.(store.SpendStore); ok {
				opts = append(opts, admin.WithSpend(ss))
			}
		}
		if c, ok := host.Services[blocklist.ServiceCache].(*blocklist.Cache); ok {
			g.gate = blockGate(c)
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
	var det *detect.Detector
	var og *outputguard.Layer
	for _, c := range chain {
		switch l := c.Layer.(type) {
		case *injection.Layer:
			det = l.Detector()
		case *outputguard.Layer:
			og = l
		}
	}
	return layers.ScannerReusing(cfg, det, og)
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

// scanRequest is the body of POST /v1/scan: one item, or several in Items.
type scanRequest struct {
	Text      *string     `json:"text"`
	Role      string      `json:"role"`
	Direction string      `json:"direction"`
	Items     []scan.Item `json:"items"`
}

// maxScanItems bounds the items of one POST /v1/scan.
const maxScanItems = 1000

// scanHTTP answers POST /v1/scan (with the scanner of the request's
// generation) with the same JSON as `rampart scan`: one
// result object for {"text": ...}, or {"results": [...]} for {"items": [...]}.
// "direction" (input or output, default input) may be given in the body or
// as a query parameter.
func (g *Gateway) scanHTTP(gen *generation, w http.ResponseWriter, r *http.Request) {
	oa := g.adapters["openai"]
	limit := gen.cfg.Server.MaxBodyBytes
	if limit <= 0 {
		limit = config.DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			g.fail(w, oa, http.StatusRequestEntityTooLarge, "request_too_large", "request body over "+strconv.FormatInt(limit, 10)+" bytes")
			return
		}
		g.fail(w, oa, http.StatusBadRequest, "invalid_request", "cannot read request body")
		return
	}
	var req scanRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		g.fail(w, oa, http.StatusBadRequest, "invalid_json", "body must be {\"text\": ..., \"role\": ...} or {\"items\": [...]}: "+err.Error())
		return
	}
	dir := req.Direction
	if q := r.URL.Query().Get("direction"); q != "" {
		dir = q
	}
	if dir == "" {
		dir = scan.Input
	}
	if dir != scan.Input && dir != scan.Output {
		g.fail(w, oa, http.StatusBadRequest, "invalid_direction", "direction must be input or output")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case req.Text != nil && req.Items == nil:
		res := gen.scanner.Scan(scan.Item{Text: *req.Text, Role: req.Role}, dir)
		if res.Error != "" {
			g.fail(w, oa, http.StatusBadRequest, "invalid_request", res.Error)
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	case req.Text == nil && req.Items != nil:
		if len(req.Items) > maxScanItems {
			g.fail(w, oa, http.StatusBadRequest, "too_many_items", "at most "+strconv.Itoa(maxScanItems)+" items per request")
			return
		}
		out := struct {
			Results []scan.Result `json:"results"`
		}{Results: make([]scan.Result, len(req.Items))}
		for i, it := range req.Items {
			out.Results[i] = gen.scanner.Scan(it, dir)
		}
		_ = json.NewEncoder(w).Encode(out)
	default:
		g.fail(w, oa, http.StatusBadRequest, "invalid_request", "give either \"text\" or \"items\"")
	}
}
