package escalation

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/sony/gobreaker/v2"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/jsonpost"
)

// Name is the layer's name in config, metrics and audit.
const Name = "escalation"

// Code is the error code of a block (the injection layer's).
const Code = "prompt_injection_detected"

// Rule ids of findings.
const (
	RuleInjection = "escalation.injection"
	RuleBenign    = "escalation.benign"
)

// Module registers the layer in the chain (layers/chain.go). Off by
// default: it needs a classifier server.
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeOff,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg := Defaults()
		if err := decode(&cfg); err != nil {
			return nil, fmt.Errorf("escalation: config: %w", err)
		}
		return New(cfg), nil
	},
}

type cached struct {
	v       verdict
	expires time.Time
}

// Layer is the escalation layer.
type Layer struct {
	cfg      Config
	post     *jsonpost.Client
	det      *detect.Detector
	sem      chan struct{}
	cache    *lru.Cache[[32]byte, cached]
	key      [32]byte // HMAC key of cache entries, per process
	breaker  *gobreaker.CircuitBreaker[verdict]
	positive map[string]bool
	m        *metrics
	now      func() time.Time
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer { return &Layer{cfg: cfg, now: time.Now} }

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator (pure: no clients, no
// I/O), so that `rampart config validate` checks what Provision would.
func (l *Layer) ValidateConfig() error {
	c := l.cfg
	c.fill()
	return c.Validate()
}

// Provision loads the detector and opens the client, cache, breaker and
// metrics.
func (l *Layer) Provision(h *engine.Host) error {
	l.cfg.fill()
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	var apiKey string
	if l.cfg.APIKeyEnv != "" {
		if apiKey = os.Getenv(l.cfg.APIKeyEnv); apiKey == "" {
			return fmt.Errorf("escalation: environment variable %s is empty", l.cfg.APIKeyEnv)
		}
	}
	d, err := detect.New(detect.Options{UserThreshold: l.cfg.UserThreshold, UntrustedThreshold: l.cfg.UntrustedThreshold})
	if err != nil {
		return fmt.Errorf("escalation: %w", err)
	}
	l.det = d
	l.post = &jsonpost.Client{HTTP: jsonpost.NewHTTPClient(l.cfg.Timeout, l.cfg.MaxConcurrency),
		Endpoint: strings.TrimRight(l.cfg.Endpoint, "/"), APIKey: apiKey, Timeout: l.cfg.Timeout,
		MaxAnswer: l.cfg.MaxAnswerBytes, Prefix: Name}
	l.sem = make(chan struct{}, l.cfg.MaxConcurrency)
	if l.cache, err = lru.New[[32]byte, cached](l.cfg.CacheSize); err != nil {
		return fmt.Errorf("escalation: cache: %w", err)
	}
	if _, err := rand.Read(l.key[:]); err != nil {
		return fmt.Errorf("escalation: cache key: %w", err)
	}
	failures := uint32(l.cfg.BreakerFailures)
	l.breaker = gobreaker.NewCircuitBreaker[verdict](gobreaker.Settings{
		Name:        Name,
		MaxRequests: 1,
		Timeout:     l.cfg.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// the classifier's own refusal of one text is no outage
		IsSuccessful: func(err error) bool { return err == nil || kindOf(err) == KindHTTP4xx || kindOf(err) == KindCanceled },
	})
	l.positive = map[string]bool{}
	for _, p := range l.cfg.PositiveLabels {
		l.positive[strings.ToUpper(p)] = true
	}
	l.m = newMetrics()
	if h != nil {
		if err := l.m.register(h.Registerer); err != nil {
			return fmt.Errorf("escalation: metrics: %w", err)
		}
	}
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.det == nil {
		return errors.New("escalation: not provisioned")
	}
	return nil
}

// Close releases idle connections.
func (l *Layer) Close() error {
	if l.post != nil {
		l.post.HTTP.CloseIdleConnections()
	}
	return nil
}

// candidate is an uncertain segment.
type candidate struct {
	msg   int
	text  string
	score float64
}

// OnRequest escalates the uncertain segments of the request.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	if l.det == nil {
		return engine.Decision{}, errors.New("escalation: not provisioned")
	}
	c := tx.Request
	if c == nil {
		return engine.Allowed, nil
	}
	var tools []string
	for _, t := range c.Tools {
		tools = append(tools, t.Name)
	}
	var cands []candidate
	for mi := range c.Messages {
		m := &c.Messages[mi]
		for si := range m.Segments {
			s := &m.Segments[si]
			role, ok := roleOf(m.Role, s.Source)
			if !ok || strings.TrimSpace(s.Text) == "" {
				continue
			}
			var ctx *detect.Context
			if role.Untrusted() {
				ctx = &detect.Context{UserRequest: c.UserTurnBefore(mi), Tools: tools}
			}
			r := l.det.ScanContext(s.Text, role, ctx)
			if r.Flagged || r.SpecialToken || r.Score < l.cfg.Lower || r.Score >= l.cfg.Upper {
				continue // decided locally (the injection layer's job) or clearly benign
			}
			cands = append(cands, candidate{msg: mi, text: s.Text, score: r.Score})
		}
	}
	if len(cands) == 0 {
		return engine.Allowed, nil
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	if len(cands) > l.cfg.MaxCalls {
		l.m.skipped.Add(float64(len(cands) - l.cfg.MaxCalls))
		cands = cands[:l.cfg.MaxCalls]
	}
	ctx := tx.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var d engine.Decision
	for _, cd := range cands {
		start := time.Now()
		v, hit, err := l.classify(ctx, cd.text)
		if err != nil {
			// the layer's failure mode decides (closed: 503; open: pass)
			return engine.Decision{}, err
		}
		ms := time.Since(start).Milliseconds()
		how := fmt.Sprintf("%d ms", ms)
		if hit {
			how = "cached"
		}
		f := engine.Finding{Layer: Name, Rule: RuleBenign, Severity: engine.SeverityLow, Score: v.score, Message: cd.msg,
			Text: fmt.Sprintf("external classifier (%s): benign, p=%.2f, %s; local score %.3f", l.cfg.API, v.score, how, cd.score)}
		if v.injection {
			f.Rule, f.Severity = RuleInjection, engine.SeverityHigh
			f.Text = fmt.Sprintf("external classifier (%s): injection, p=%.2f, %s; local score %.3f", l.cfg.API, v.score, how, cd.score)
			if d.Action == engine.Allow {
				d.Rule = RuleInjection
				d.Action = engine.Flag
				if l.cfg.Action == ActionBlock {
					d.Action, d.Status, d.Code = engine.Block, http.StatusBadRequest, Code
					d.Reason = fmt.Sprintf("prompt injection detected in message %d (external classifier)", cd.msg)
				}
			}
		}
		d.Findings = append(d.Findings, f)
		if d.Action == engine.Block {
			break
		}
	}
	return d, nil
}

// classify returns the classifier's verdict on text, from the cache or a
// call through the breaker; hit reports a cached verdict.
func (l *Layer) classify(ctx context.Context, text string) (v verdict, hit bool, err error) {
	text = clip(text, l.cfg.MaxChars)
	mac := hmac.New(sha256.New, l.key[:])
	mac.Write([]byte(l.cfg.API + "\x00" + l.cfg.Model + "\x00"))
	mac.Write([]byte(text))
	var key [32]byte
	mac.Sum(key[:0])
	if l.cfg.CacheTTL > 0 {
		if c, ok := l.cache.Get(key); ok && l.now().Before(c.expires) {
			l.m.cacheHits.Inc()
			l.m.verdicts.WithLabelValues(verdictName(c.v)).Inc()
			return c.v, true, nil
		}
	}
	select {
	case l.sem <- struct{}{}:
	default:
		l.m.errors.WithLabelValues(KindOverloaded).Inc()
		return verdict{}, false, fail(KindOverloaded, "max_concurrency calls already in flight")
	}
	defer func() { <-l.sem }()
	start := time.Now()
	v, err = l.breaker.Execute(func() (verdict, error) {
		l.m.calls.WithLabelValues(l.cfg.API).Inc()
		return l.call(ctx, text)
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		err = fail(KindBreakerOpen, "circuit breaker open after repeated failures")
	} else {
		l.m.latency.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		l.m.errors.WithLabelValues(kindOf(err)).Inc()
		return verdict{}, false, err
	}
	l.m.verdicts.WithLabelValues(verdictName(v)).Inc()
	if l.cfg.CacheTTL > 0 {
		l.cache.Add(key, cached{v: v, expires: l.now().Add(l.cfg.CacheTTL)})
	}
	return v, false, nil
}

func verdictName(v verdict) string {
	if v.injection {
		return "injection"
	}
	return "benign"
}

// clip keeps at most n characters of s: its head and tail.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n/2]) + "\n…\n" + string(r[len(r)-n/2:])
}

// roleOf maps a segment to the detector's role; system prompts and
// assistant turns are not escalated.
func roleOf(role conv.Role, src conv.Source) (detect.Role, bool) {
	switch src {
	case conv.SourceDocument:
		return detect.RoleDocument, true
	case conv.SourceTool:
		return detect.RoleTool, true
	case conv.SourceUser:
		return detect.RoleUser, true
	case conv.SourceSystem, conv.SourceAssistant:
		return "", false
	}
	switch role {
	case conv.RoleTool:
		return detect.RoleTool, true
	case conv.RoleUser:
		return detect.RoleUser, true
	}
	return "", false
}
