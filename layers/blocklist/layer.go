package blocklist

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
	"github.com/rampart-ai/rampart/store"
)

// Name is the layer's name in config, metrics and audit.
const Name = "blocklist"

// Error codes of the layer's answers.
const (
	// CodeBlocked answers a blocked key, user or address (403).
	CodeBlocked = "blocked"
	// CodeThrottled answers a throttled one past its rate (429).
	CodeThrottled = "throttled"
)

// maxThrottleEntries bounds the throttle counters (one per throttle
// block; the store returns at most store.MaxActiveBlocks).
const maxThrottleEntries = store.MaxActiveBlocks

// Module registers the layer in the chain (layers/chain.go).
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeEnforce,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg, err := DecodeConfig(decode)
		if err != nil {
			return nil, err // decode names the section and the line of the key
		}
		return New(cfg), nil
	},
}

// Layer enforces the active blocks and throttles in the headers phase.
type Layer struct {
	cfg      Config
	cache    *Cache
	own      bool // cache created (and closed) by the layer
	throttle *limits.Memory
	// ownThrottle: the layer created throttle without a host to hold it.
	ownThrottle bool
	now         func() time.Time
	denied      *prometheus.CounterVec
}

// Option changes how New builds the layer (tests and embedders).
type Option func(*Layer)

// WithCache makes the layer use c (the caller starts and closes it).
func WithCache(c *Cache) Option { return func(l *Layer) { l.cache = c } }

// WithClock sets the clock of the throttle counters.
func WithClock(now func() time.Time) Option { return func(l *Layer) { l.now = now } }

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config, opts ...Option) *Layer {
	cfg.fill()
	l := &Layer{cfg: cfg, now: time.Now}
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

// Cache returns the block cache the layer reads (after Provision).
func (l *Layer) Cache() *Cache { return l.cache }

// Provision uses the shared cache (CacheKey in h.Services), or builds one
// over the shared store (StoreKey), loads it and starts its refresher.
func (l *Layer) Provision(h *engine.Host) error {
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	var svc *engine.Services
	if h != nil {
		svc = h.Services
	}
	if l.cache == nil {
		if c, ok := engine.Use(svc, CacheKey); ok {
			l.cache = c
		}
	}
	if l.cache == nil {
		st, ok := engine.Use(svc, StoreKey)
		if !ok || st == nil {
			return errors.New("blocklist: no block store (engine.Host.Services has no " + StoreKey.String() + ")")
		}
		c := NewCache(st, h.Logger)
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := c.Reload(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("blocklist: load blocks: %w", err)
		}
		c.Start(l.cfg.RefreshInterval, l.cfg.PurgeInterval)
		l.cache, l.own = c, true
	}
	if err := l.provisionThrottle(svc); err != nil {
		return err
	}
	l.denied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_blocklist_denied_total",
		Help: "Requests refused by the blocklist layer, by target kind and action (block, throttle).",
	}, []string{"kind", "action"})
	var reg prometheus.Registerer
	if h != nil {
		reg = h.Registerer
	}
	if reg != nil {
		if err := reg.Register(l.denied); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
			l.denied = are.ExistingCollector.(*prometheus.CounterVec)
		}
		// A shared cache's metrics are registered by whoever shares it.
		if l.own {
			if err := l.cache.Register(reg); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.cache == nil || l.throttle == nil {
		return errors.New("blocklist: not provisioned")
	}
	return l.cfg.Validate()
}

// Close stops a cache the layer created.
func (l *Layer) Close() error {
	var err error
	if l.ownThrottle && l.throttle != nil {
		err = l.throttle.Close()
	}
	if l.own && l.cache != nil {
		return errors.Join(err, l.cache.Close())
	}
	return err
}

// OnHeaders refuses blocked and over-rate throttled callers before the
// body is read.
func (l *Layer) OnHeaders(tx *engine.Tx) (engine.Decision, error) {
	var keyID, tenant, subject string
	if id := tx.Identity; id != nil {
		keyID, tenant, subject = id.KeyID, id.Tenant, id.Subject
	}
	ip, _ := netip.ParseAddr(tx.ClientIP) // invalid: matches no address block
	v := l.cache.Lookup(ip, keyID, tenant, subject)
	if v.Block != nil {
		l.denied.WithLabelValues(v.Block.Kind, store.ActionBlock).Inc()
		return engine.Decision{Action: engine.Block, Status: http.StatusForbidden, Code: CodeBlocked,
			Reason: blockedMessage(v.Block.Kind), Rule: v.Block.ID,
			Findings: []engine.Finding{{Layer: Name, Rule: v.Block.ID, Severity: engine.SeverityHigh, Message: -1,
				Text: v.Block.Kind + " blocked by " + createdBy(v.Block)}}}, nil
	}
	if v.NThrottles == 0 {
		return engine.Allowed, nil
	}
	var checks [3]limits.Check
	var sts [3]limits.Status
	for i := range v.NThrottles {
		b := v.Throttles[i]
		checks[i] = limits.Check{Kind: limits.Rate, Key: b.ID, Cost: 1,
			Interval: limits.IntervalFor(b.RPM, time.Minute), Capacity: burst(b.RPM)}
	}
	ctx := tx.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ok, err := l.throttle.Admit(ctx, checks[:v.NThrottles], sts[:v.NThrottles])
	if err != nil {
		return engine.Decision{}, fmt.Errorf("blocklist: throttle: %w", err)
	}
	if ok {
		return engine.Allowed, nil
	}
	for i := range v.NThrottles {
		if sts[i].OK {
			continue
		}
		b := v.Throttles[i]
		l.denied.WithLabelValues(b.Kind, store.ActionThrottle).Inc()
		wait := max(int64((sts[i].RetryAfter+time.Second-1)/time.Second), 1)
		return engine.Decision{Action: engine.Block, Status: http.StatusTooManyRequests, Code: CodeThrottled,
			Reason:  throttledMessage(b.Kind, b.RPM),
			Rule:    b.ID,
			Headers: map[string]string{"Retry-After": strconv.FormatInt(wait, 10)},
			Findings: []engine.Finding{{Layer: Name, Rule: b.ID, Severity: engine.SeverityMedium, Message: -1,
				Text: b.Kind + " throttled by " + createdBy(b)}}}, nil
	}
	return engine.Allowed, nil
}

// burst is a throttle's GCRA capacity: ten seconds' worth of requests, at
// least one.
func burst(rpm int64) int64 { return max(rpm/6, 1) }

func createdBy(b *store.Block) string {
	if b.CreatedBy == store.CreatedByAuto {
		return "incident response"
	}
	return "an administrator"
}

// blockedMessage is the client-facing text: it names what is blocked but
// not why, by whom or for how long.
func blockedMessage(kind string) string {
	switch kind {
	case store.BlockKey:
		return "This API key is temporarily blocked."
	case store.BlockUser:
		return "This user is temporarily blocked."
	}
	return "Requests from this address are temporarily blocked."
}

func throttledMessage(kind string, rpm int64) string {
	what := "this address"
	switch kind {
	case store.BlockKey:
		what = "this API key"
	case store.BlockUser:
		what = "this user"
	}
	return "Requests from " + what + " are temporarily limited to " + strconv.FormatInt(rpm, 10) + " per minute."
}
