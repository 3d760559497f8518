package extraction

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
)

// Name is the layer's name in config, metrics and audit.
const Name = "extraction"

// Error codes of the layer's answers.
const (
	// CodeRateLimited answers (429) a request above a tightened identity's
	// reduced rate.
	CodeRateLimited = "model_extraction_rate_limited"
	// CodeSuspected answers (403) every request of a blocked identity.
	CodeSuspected = "model_extraction_suspected"
)

// Rule is the Decision.Rule of the layer's decisions; findings use
// Rule + "/" + action.
const Rule = "model_extraction"

// Module registers the layer in the chain (layers/chain.go). It starts in
// monitor mode: the score is behavioural and per replica, so operators
// should see what it would do with their traffic (and set baselines) before
// it refuses anything.
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeMonitor,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg := Defaults()
		if err := decode(&cfg); err != nil {
			return nil, err // decode names the section and the line of the key
		}
		return New(cfg), nil
	},
}

// Layer is the model-extraction detection layer.
type Layer struct {
	cfg     Config
	sc      scorer
	tr      *tracker
	limiter *limits.Memory
	iv      time.Duration // GCRA interval of the tightened rate
	seed    maphash.Seed
	now     func() time.Time
	m       *metrics
	onScore func(float64) // tests: sees every score
	own     *sharedState  // state the layer created without a host to hold it
}

// Option changes how New builds the layer (for tests and embedders).
type Option func(*Layer)

// WithClock sets the clock for windows, TTLs and the tightened rate.
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

// Provision validates the configuration, allocates the bounded identity
// table and the tightened-rate limiter, and registers metrics.
func (l *Layer) Provision(h *engine.Host) error {
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	l.sc = newScorer(l.cfg)
	if err := l.provisionState(h); err != nil {
		return err
	}
	l.iv = limits.IntervalFor(l.cfg.TightenRPM, time.Minute)
	var reg prometheus.Registerer
	if h != nil {
		reg = h.Registerer
	}
	m, err := newMetrics(reg, l.tr)
	if err != nil {
		return err
	}
	l.m = m
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.tr == nil || l.m == nil {
		return errors.New("extraction: not provisioned")
	}
	return l.cfg.Validate()
}

// Close releases the state the layer owns (state shared through
// engine.Host.Services is released by whoever created the host).
func (l *Layer) Close() error {
	if l.own != nil {
		return l.own.Close()
	}
	return nil
}

// OnRequest records the request in its identity's windows, scores the
// identity and acts on its level: nothing, a flag, a reduced request rate
// (429 above it) or a refusal (403).
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	req := tx.Request
	if req == nil || req.Kind == conv.KindModels {
		return engine.Allowed, nil
	}
	text := questionText(req, l.cfg.MaxTextBytes)
	var sig signature
	if text != "" {
		sig = analyse(text)
	}
	id := l.identity(tx)
	var lim map[string]int64
	if tx.Identity != nil {
		lim = tx.Identity.Limits
	}
	bl := l.sc.baselinesFor(lim)
	now := l.now()
	var (
		f     features
		lv    level
		rose  bool
		until int64
	)
	l.tr.with(id, func(s *state) {
		f = l.sc.observe(s, now, sig, text != "", bl)
		lv, rose = l.sc.transition(s, now, l.sc.levelFor(f.score))
		until = s.until
	})
	if l.onScore != nil {
		l.onScore(f.score)
	}
	if rose {
		l.m.escalations[lv].Inc()
	}
	switch lv {
	case levelFlag:
		l.m.actions[levelFlag].Inc()
		return engine.Decision{Action: engine.Flag, Rule: Rule, Findings: []engine.Finding{l.finding(lv, &f)}}, nil
	case levelTighten:
		return l.tighten(tx, id, &f)
	case levelBlock:
		l.m.actions[levelBlock].Inc()
		wait := max(time.Duration(until-now.Unix())*time.Second, time.Second)
		return engine.Decision{Action: engine.Block, Status: http.StatusForbidden, Code: CodeSuspected, Rule: Rule,
			Reason: fmt.Sprintf("requests from this identity are refused for %s: its traffic resembles model extraction "+
				"(risk score %.2f); contact the operator if this is wrong", secs(wait), f.score),
			Headers:  map[string]string{"Retry-After": strconv.FormatInt(ceilSec(wait), 10)},
			Findings: []engine.Finding{l.finding(lv, &f)}}, nil
	}
	return engine.Allowed, nil
}

// tighten admits the request against the identity's reduced rate (GCRA):
// a flag when it passes, a 429 when it does not.
func (l *Layer) tighten(tx *engine.Tx, id uint64, f *features) (engine.Decision, error) {
	ctx := tx.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	checks := [1]limits.Check{{Kind: limits.Rate, Key: "x" + strconv.FormatUint(id, 16),
		Interval: l.iv, Capacity: l.cfg.TightenBurst, Cost: 1}}
	var sts [1]limits.Status
	ok, err := l.limiter.Admit(ctx, checks[:], sts[:])
	if err != nil {
		return engine.Decision{}, fmt.Errorf("extraction: tightened-rate limiter: %w", err)
	}
	fd := []engine.Finding{l.finding(levelTighten, f)}
	if ok {
		l.m.actions[levelTighten].Inc()
		return engine.Decision{Action: engine.Flag, Rule: Rule, Findings: fd}, nil
	}
	l.m.denied.Inc()
	st := sts[0]
	wait := st.RetryAfter
	if wait <= 0 {
		wait = st.Reset
	}
	return engine.Decision{Action: engine.Block, Status: http.StatusTooManyRequests, Code: CodeRateLimited, Rule: Rule,
		Reason: fmt.Sprintf("rate limit reduced to %d requests per minute (burst %d) for this identity because its traffic "+
			"resembles model extraction (risk score %.2f); retry after %s", l.cfg.TightenRPM, l.cfg.TightenBurst, f.score, secs(wait)),
		Headers: map[string]string{
			"Retry-After":                    strconv.FormatInt(max(ceilSec(wait), 1), 10),
			"X-RateLimit-Limit":              strconv.FormatInt(l.cfg.TightenRPM, 10),
			"X-RateLimit-Remaining":          strconv.FormatInt(max(st.Remaining, 0), 10),
			"X-RateLimit-Reset":              strconv.FormatInt(ceilSec(st.Reset), 10),
			"x-ratelimit-limit-requests":     strconv.FormatInt(l.cfg.TightenRPM, 10),
			"x-ratelimit-remaining-requests": strconv.FormatInt(max(st.Remaining, 0), 10),
			"x-ratelimit-reset-requests":     st.Reset.Round(time.Millisecond).String(),
		},
		Findings: fd}, nil
}

var severity = [...]engine.Severity{levelFlag: engine.SeverityLow, levelTighten: engine.SeverityMedium, levelBlock: engine.SeverityHigh}

// finding reports the level and the feature values, never prompt text.
func (l *Layer) finding(lv level, f *features) engine.Finding {
	return engine.Finding{Layer: Name, Rule: Rule + "/" + lv.String(), Severity: severity[lv], Score: round3(f.score),
		Message: -1, Text: findingText(lv, f, l.cfg.ShortWindow, l.cfg.LongWindow)}
}

// findingText is fmt.Sprintf("model-extraction risk %.2f (%s): volume
// %.1fx baseline (%d in %s, %d in %s), pattern %.2f (templated %.2f, sweep
// %.2f), diversity %.2f over %d prompts", ...) built with strconv in one
// allocation: a flagged identity pays it on every request.
func findingText(lv level, f *features, short, long time.Duration) string {
	b := make([]byte, 0, 192)
	b = append(b, "model-extraction risk "...)
	b = strconv.AppendFloat(b, f.score, 'f', 2, 64)
	b = append(b, " ("...)
	b = append(b, lv.String()...)
	b = append(b, "): volume "...)
	b = strconv.AppendFloat(b, f.ratio, 'f', 1, 64)
	b = append(b, "x baseline ("...)
	b = strconv.AppendInt(b, int64(f.short), 10)
	b = append(b, " in "...)
	b = append(b, short.String()...)
	b = append(b, ", "...)
	b = strconv.AppendInt(b, int64(f.long), 10)
	b = append(b, " in "...)
	b = append(b, long.String()...)
	b = append(b, "), pattern "...)
	b = strconv.AppendFloat(b, f.pattern, 'f', 2, 64)
	b = append(b, " (templated "...)
	b = strconv.AppendFloat(b, f.templated, 'f', 2, 64)
	b = append(b, ", sweep "...)
	b = strconv.AppendFloat(b, f.sweep, 'f', 2, 64)
	b = append(b, "), diversity "...)
	b = strconv.AppendFloat(b, f.diversity, 'f', 2, 64)
	b = append(b, " over "...)
	b = strconv.AppendInt(b, int64(f.samples), 10)
	b = append(b, " prompts"...)
	return string(b)
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// identity is the keyed hash of who is calling: the API key (per tenant),
// else the user (per tenant), else the client IP (IPv6 by prefix). The
// seed is random per process, so clients cannot aim collisions.
func (l *Layer) identity(tx *engine.Tx) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	if id := tx.Identity; id != nil && (id.KeyID != "" || id.Subject != "") {
		if id.KeyID != "" {
			h.WriteString("k\x00")
			h.WriteString(id.Tenant)
			h.WriteByte(0)
			h.WriteString(id.KeyID)
		} else {
			h.WriteString("u\x00")
			h.WriteString(id.Tenant)
			h.WriteByte(0)
			h.WriteString(id.Subject)
		}
		return h.Sum64()
	}
	h.WriteString("i\x00")
	a, err := netip.ParseAddr(tx.ClientIP)
	if err != nil {
		h.WriteString(tx.ClientIP)
		return h.Sum64()
	}
	a = a.Unmap().WithZone("")
	if a.Is6() && l.cfg.IPv6Prefix < 128 {
		if p, err := a.Prefix(l.cfg.IPv6Prefix); err == nil {
			a = p.Addr()
		}
	}
	b := a.As16()
	h.Write(b[:])
	return h.Sum64()
}

func ceilSec(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

func secs(d time.Duration) string { return strconv.FormatInt(max(ceilSec(d), 1), 10) + "s" }
