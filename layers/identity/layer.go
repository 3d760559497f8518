package identity

import (
	"context"
	"errors"
	"net/http"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	ident "github.com/rampart-ai/rampart/identity"
)

// Name is the layer's name in config, metrics and audit.
const Name = "identity"

// Shared services (engine.Host.Services) of the layer.
var (
	// StoreKey is the store of keys and tenants; the gateway provides its
	// store under it.
	StoreKey = engine.NewKey[ident.Store]("identity.store")
	// ServiceKey is the identity service (key cache, lockouts, verifiers)
	// the layer creates (or finds) and the admin API also uses.
	ServiceKey = engine.NewKey[*ident.Service]("identity.service")
)

// Module registers the layer in the chain (layers/chain.go).
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeEnforce,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg := ident.Defaults()
		if err := decode(&cfg); err != nil {
			return nil, err // decode names the section and the line of the key
		}
		return &Layer{cfg: cfg}, nil
	},
}

// Layer is the identity layer.
type Layer struct {
	cfg ident.Config
	svc *ident.Service
	own bool // the layer created (and closes) the service
}

// New returns a layer for cfg (no side effects); for tests and embedding.
func New(cfg ident.Config) *Layer { return &Layer{cfg: cfg} }

// NewWithService returns a provisioned layer that uses svc.
func NewWithService(svc *ident.Service) *Layer { return &Layer{cfg: svc.Config(), svc: svc} }

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator (pure: no clients, no
// I/O), so that `rampart config validate` checks what Provision would.
func (l *Layer) ValidateConfig() error { return l.cfg.Validate() }

// Service returns the service (after Provision).
func (l *Layer) Service() *ident.Service { return l.svc }

// Provision uses the shared identity service (ServiceKey in h.Services)
// or builds one from the layer's config over the shared store (StoreKey;
// with the key pepper from RAMPART_KEY_PEPPER or the data directory),
// starts it and shares it for the admin API.
func (l *Layer) Provision(h *engine.Host) error {
	if l.svc != nil {
		return nil
	}
	if h == nil {
		return errors.New("identity: no host")
	}
	svc, shared, err := engine.Acquire(h.Services, ServiceKey, func() (*ident.Service, error) {
		st, ok := engine.Use(h.Services, StoreKey)
		if !ok || st == nil {
			return nil, errors.New("identity: no store (engine.Host.Services has no " + StoreKey.String() + ")")
		}
		pepper, err := ident.LoadPepper(h.DataDir)
		if err != nil {
			return nil, err
		}
		svc, err := ident.NewService(l.cfg, st, pepper, h.Logger)
		if err != nil {
			return nil, err
		}
		if err := svc.Start(context.Background()); err != nil {
			return nil, errors.Join(err, svc.Close())
		}
		return svc, nil
	})
	if err != nil {
		return err
	}
	l.svc, l.own = svc, !shared
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.svc == nil {
		return errors.New("identity: not provisioned")
	}
	return nil
}

// Close stops the service if the layer created it.
func (l *Layer) Close() error {
	if l.own && l.svc != nil {
		return l.svc.Close()
	}
	return nil
}

func block(status int, code, reason string) engine.Decision {
	return engine.Decision{Action: engine.Block, Status: status, Code: code, Reason: reason, Rule: code}
}

// OnRequest authenticates and authorises the transaction.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	p, done := tx.State(statePrincipal).(*ident.Principal)
	if !done {
		// The engine runs OnHeaders first; a caller that did not (a test,
		// an embedder driving the layer by hand) gets the same checks here.
		d, err := l.OnHeaders(tx)
		if err != nil || d.Action == engine.Block {
			return d, err
		}
		p, _ = tx.State(statePrincipal).(*ident.Principal)
	}
	if p != nil && tx.Request != nil && tx.Request.Model != "" && !p.ModelAllowed(tx.Request.Model) {
		return block(http.StatusForbidden, "model_not_allowed",
			"This key may not use the requested model."), nil
	}
	// Without a model the upstream picks one (a Responses API stored
	// prompt's, a moderation default) that the allow-list never saw. (The
	// other model routes require a model; /v1/scan reaches no model.)
	if p != nil && tx.Request != nil && tx.Request.Model == "" && upstreamPicksModel(tx.Request.Kind) && p.ModelsRestricted() {
		return block(http.StatusForbidden, "model_not_allowed",
			"This key may use only some models: name the model in the request."), nil
	}
	return engine.Allowed, nil
}

// upstreamPicksModel reports whether a request of kind k may leave the
// model out and have the upstream choose it.
func upstreamPicksModel(k conv.Kind) bool {
	return k == conv.KindResponses || k == conv.KindModeration || k == conv.KindCountTokens
}

// statePrincipal is the tx state key of the authenticated principal (or a
// nil *Principal for an allowed anonymous or public call).
const statePrincipal = "identity.principal"

// OnHeaders authenticates the caller and checks the route's permission
// before the engine reads the request body, so anonymous or unauthorised
// clients never get their bodies read or parsed.
func (l *Layer) OnHeaders(tx *engine.Tx) (engine.Decision, error) {
	ctx := tx.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	creds := ident.Credentials{Header: tx.Header, ClientIP: tx.ClientIP, TLS: tx.TLS}
	if creds.Header == nil {
		creds.Header = http.Header{}
	}
	p, den, err := l.svc.Authorize(ctx, creds, requestMethod(tx), tx.Route, true)
	if err != nil {
		return engine.Decision{}, err
	}
	if p != nil {
		tx.Identity = p.EngineIdentity()
	}
	if den != nil {
		d := block(den.Status, den.Code, den.Message)
		d.Headers = den.Headers
		return d, nil
	}
	tx.SetState(statePrincipal, p)
	return engine.Allowed, nil
}

// requestMethod is the client's HTTP method as recorded by the engine, or
// inferred from the request kind when a caller built the Tx without it
// (model listings are GET, every other proxied call is POST).
func requestMethod(tx *engine.Tx) string {
	if tx.Method != "" {
		return tx.Method
	}
	if tx.Request != nil && tx.Request.Kind == conv.KindModels {
		return http.MethodGet
	}
	return http.MethodPost
}
