package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/limits"
	"github.com/rampart-ai/rampart/pricing"
)

// Name is the layer's name in config, metrics and audit.
const Name = "ratelimit"

// stateKey holds a transaction's admitted charges until OnFinish.
const stateKey = Name

// Module registers the layer in the chain (layers/chain.go).
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeEnforce,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg := Defaults()
		if err := decode(&cfg); err != nil {
			return nil, err // decode names the section and the line of the key
		}
		return New(cfg), nil
	},
}

// Layer is the rate-limit layer.
type Layer struct {
	cfg     Config
	rules   []rule
	backend limits.Backend
	own     bool // backend created (and closed) by the layer
	now     func() time.Time
	getenv  func(string) string
	log     *slog.Logger
	m       *metrics
	tokens  bool // some rule needs prompt token counts
	// notify sends budget alerts (the incident responder in
	// Host.Services, incident.Key, when incident response runs); nil: no
	// alerts.
	notify budgetNotifier
}

// budgetNotifier is what the layer needs of incident.Responder.
type budgetNotifier interface{ NotifyBudget(incident.BudgetAlert) }

// Option changes how New builds the layer (for tests and embedders).
type Option func(*Layer)

// WithBackend makes the layer use b instead of building one from the
// config; the caller closes it.
func WithBackend(b limits.Backend) Option { return func(l *Layer) { l.backend = b } }

// WithClock sets the clock used for budget windows and the memory backend.
func WithClock(now func() time.Time) Option { return func(l *Layer) { l.now = now } }

// WithBudgetNotifier sets where budget alerts go (default: the incident
// responder in Host.Services (incident.Key), if any).
func WithBudgetNotifier(n interface{ NotifyBudget(incident.BudgetAlert) }) Option {
	return func(l *Layer) { l.notify = n }
}

// WithGetenv sets how redis_url_env is looked up (default os.Getenv).
func WithGetenv(f func(string) string) Option { return func(l *Layer) { l.getenv = f } }

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config, opts ...Option) *Layer {
	cfg.fill()
	l := &Layer{cfg: cfg, now: time.Now, getenv: os.Getenv, log: slog.Default()}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator (pure: no clients, no
// I/O), so that `rampart config validate` checks what Provision would.
func (l *Layer) ValidateConfig() error { return l.cfg.Validate() }

// Config returns the effective configuration.
func (l *Layer) Config() Config { return l.cfg }

// Backend returns the provisioned backend.
func (l *Layer) Backend() limits.Backend { return l.backend }

// Provision compiles the rules, opens the backend (or reuses the memory
// backend in h.Services, see ServiceMemoryBackend) and registers metrics.
// A Redis that does not answer yet is logged, not fatal: requests fail (per
// the failure mode) until it answers.
func (l *Layer) Provision(h *engine.Host) error {
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	if h != nil && h.Logger != nil {
		l.log = h.Logger
	}
	var svc *engine.Services
	if h != nil {
		svc = h.Services
	}
	if l.notify == nil {
		if r, ok := engine.Use(svc, incident.Key); ok {
			l.notify = r
		}
	}
	l.rules = make([]rule, len(l.cfg.Rules))
	for i := range l.cfg.Rules {
		l.rules[i] = compile(l.cfg.Rules[i])
		l.tokens = l.tokens || l.rules[i].needsTokens()
	}
	if l.backend == nil {
		switch l.cfg.Backend {
		case BackendMemory:
			if err := l.provisionMemory(svc); err != nil {
				return err
			}
		case BackendRedis:
			url, err := limits.RedisURLFrom(l.cfg.RedisURL, l.cfg.RedisURLEnv, l.getenv)
			if err != nil {
				return fmt.Errorf("ratelimit: %w", err)
			}
			r, err := limits.NewRedisURL(url, l.cfg.RedisTimeout)
			if err != nil {
				return fmt.Errorf("ratelimit: %w", err)
			}
			l.backend, l.own = r, true
			ctx, cancel := context.WithTimeout(context.Background(), 2*l.cfg.RedisTimeout)
			if err := r.Ping(ctx); err != nil {
				l.log.Warn("ratelimit: redis does not answer yet; requests fail per the layer's failure mode until it does",
					"error", err.Error())
			}
			cancel()
		}
	}
	var reg prometheus.Registerer
	if h != nil {
		reg = h.Registerer
	}
	m, err := newMetrics(reg, l.cfg.Backend, l.backend)
	if err != nil {
		return err
	}
	l.m = m
	return nil
}

// memoryKey is the shared service of the memory backend. The first
// layer to need one creates it; layers provisioned later over the same
// pool (the next configuration after a reload) reuse it, so a reload does
// not hand every client a fresh budget. The pool closes it when no
// configuration uses it any more.
var memoryKey = engine.NewKey[*sharedMemory]("ratelimit.memory")

// sharedMemory is the shared memory backend, with the max_entries it was
// made with.
type sharedMemory struct {
	*limits.Memory
	maxEntries int
}

// provisionMemory uses the memory backend in svc, or creates one there
// (without services, the layer owns it).
func (l *Layer) provisionMemory(svc *engine.Services) error {
	var created bool
	sm, shared, err := engine.Acquire(svc, memoryKey, func() (*sharedMemory, error) {
		created = true
		return &sharedMemory{Memory: limits.NewMemory(limits.MemoryOptions{MaxEntries: l.cfg.MaxEntries, Now: l.now}),
			maxEntries: l.cfg.MaxEntries}, nil
	})
	if err != nil {
		return err
	}
	if !created && sm.maxEntries != l.cfg.MaxEntries {
		l.log.Warn("ratelimit: max_entries changed; the running memory backend keeps its size until a restart",
			"running", sm.maxEntries, "configured", l.cfg.MaxEntries)
	}
	l.backend, l.own = sm.Memory, !shared
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.backend == nil || l.m == nil {
		return errors.New("ratelimit: not provisioned")
	}
	return l.cfg.Validate()
}

// usdNanos converts a USD budget to nano-USD (0 for none).
func usdNanos(usd float64) int64 {
	if !(usd > 0) {
		return 0
	}
	return int64(math.Round(min(usd, MaxBudgetUSD) * pricing.NanosPerUSD))
}

// Close closes a backend the layer opened.
func (l *Layer) Close() error {
	if l.own && l.backend != nil {
		return l.backend.Close()
	}
	return nil
}

// rule is a compiled Rule.
type rule struct {
	Rule
	scope               uint8
	routes              map[string]bool
	rpmIv, tpmIv, ptpIv time.Duration
	usdDay, usdMonth    int64 // USD budgets in nano-USD
}

func compile(r Rule) rule {
	c := rule{Rule: r, scope: scopeIDs[r.Scope]}
	if len(r.Routes) > 0 {
		c.routes = make(map[string]bool, len(r.Routes))
		for _, rt := range r.Routes {
			c.routes[rt] = true
		}
	}
	c.rpmIv = limits.IntervalFor(r.RPM, time.Minute)
	c.tpmIv = limits.IntervalFor(r.TPM, time.Minute)
	c.ptpIv = limits.IntervalFor(r.PromptTPM, time.Minute)
	c.usdDay, c.usdMonth = usdNanos(r.BudgetUSDDay), usdNanos(r.BudgetUSDMonth)
	return c
}

func (r *rule) needsTokens() bool {
	return r.TPM > 0 || r.PromptTPM > 0 || r.BudgetDay > 0 || r.BudgetMonth > 0
}

// matches reports whether the rule's filters select tx.
func (r *rule) matches(tx *engine.Tx) bool {
	if r.routes != nil && !r.routes[tx.Route] {
		return false
	}
	if len(r.Models) > 0 {
		model := ""
		if tx.Request != nil {
			model = tx.Request.Model
		}
		for _, g := range r.Models {
			if ok, _ := path.Match(g, model); ok {
				return true
			}
		}
		return false
	}
	return true
}
