package guardmodel

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/jsonpost"
)

// Name is the layer's name in config, metrics and audit.
const Name = "guardmodel"

// Error codes of blocks.
const (
	CodeUnsafe      = "unsafe_content"
	CodeUnavailable = "guard_unavailable"
)

// Module registers the layer in the chain (layers/chain.go). Off by
// default: it needs a guard model server.
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeOff,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg := Defaults()
		if err := decode(&cfg); err != nil {
			return nil, err // decode names the section and the line of the key
		}
		return New(cfg), nil
	},
}

type cached struct {
	v       verdict
	expires time.Time
}

// Layer is the external guard model layer.
type Layer struct {
	cfg        Config
	post       *jsonpost.Client
	sem        chan struct{}
	cache      *lru.Cache[[32]byte, cached]
	m          *metrics
	categories string            // rendered category list
	names      map[string]string // code → name
	known      map[string]bool
	blocks     map[string]bool // codes that block; nil: all
	now        func() time.Time
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer { return &Layer{cfg: cfg, now: time.Now} }

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator (pure: no clients, no
// I/O), so that `rampart config validate` checks what Provision would.
func (l *Layer) ValidateConfig() error { return l.cfg.Validate() }

// Provision opens the HTTP client, the cache and the metrics.
func (l *Layer) Provision(h *engine.Host) error {
	l.cfg.fill()
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	var apiKey string
	if l.cfg.APIKeyEnv != "" {
		apiKey = os.Getenv(l.cfg.APIKeyEnv)
		if apiKey == "" {
			return fmt.Errorf("guardmodel: environment variable %s is empty", l.cfg.APIKeyEnv)
		}
	}
	l.post = &jsonpost.Client{HTTP: jsonpost.NewHTTPClient(l.cfg.Timeout, l.cfg.MaxConcurrency),
		Endpoint: strings.TrimRight(l.cfg.Endpoint, "/"), APIKey: apiKey, Timeout: l.cfg.Timeout,
		MaxAnswer: l.cfg.MaxAnswerBytes, Prefix: Name}
	l.sem = make(chan struct{}, l.cfg.MaxConcurrency)
	c, err := lru.New[[32]byte, cached](l.cfg.CacheSize)
	if err != nil {
		return fmt.Errorf("guardmodel: cache: %w", err)
	}
	l.cache = c
	l.names = make(map[string]string, len(l.cfg.Categories))
	l.known = make(map[string]bool, len(l.cfg.Categories))
	for _, cat := range l.cfg.Categories {
		l.names[cat.Code], l.known[cat.Code] = cat.Name, true
	}
	if len(l.cfg.BlockCategories) > 0 {
		l.blocks = make(map[string]bool, len(l.cfg.BlockCategories))
		for _, b := range l.cfg.BlockCategories {
			l.blocks[b] = true
		}
	}
	l.categories = renderCategories(l.cfg.Categories)
	l.m = newMetrics()
	if h != nil {
		if err := l.m.register(h.Registerer); err != nil {
			return fmt.Errorf("guardmodel: metrics: %w", err)
		}
	}
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.post == nil {
		return fmt.Errorf("guardmodel: not provisioned")
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

// cacheKey hashes the direction and turns (length-prefixed, so that turn
// boundaries cannot be forged by content).
func cacheKey(direction string, turns []turn) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", direction, len(turns))
	for _, t := range turns {
		fmt.Fprintf(h, "%t\x00%d\x00", t.agent, len(t.text))
		h.Write([]byte(t.text))
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// classify returns the guard's verdict for turns, from the cache or a call.
func (l *Layer) classify(ctx context.Context, direction string, turns []turn) (verdict, error) {
	key := cacheKey(direction, turns)
	if l.cfg.CacheTTL > 0 {
		if c, ok := l.cache.Get(key); ok && l.now().Before(c.expires) {
			l.m.cacheHits.Inc()
			return c.v, nil
		}
	}
	select {
	case l.sem <- struct{}{}:
	default:
		l.m.errors.WithLabelValues(KindOverloaded).Inc()
		return verdict{}, callError(KindOverloaded, "max_concurrency guard calls already in flight")
	}
	defer func() { <-l.sem }()
	l.m.calls.WithLabelValues(direction).Inc()
	start := time.Now()
	v, err := l.call(ctx, turns)
	l.m.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		kind := jsonpost.KindOf(err)
		l.m.errors.WithLabelValues(kind).Inc()
		return verdict{}, err
	}
	if l.cfg.CacheTTL > 0 {
		l.cache.Add(key, cached{v: v, expires: l.now().Add(l.cfg.CacheTTL)})
	}
	return v, nil
}

// decide turns a verdict or an error into the layer's decision.
func (l *Layer) decide(direction string, msg int, v verdict, err error) engine.Decision {
	if err != nil {
		kind := jsonpost.KindOf(err)
		f := engine.Finding{Layer: Name, Rule: Name + ".unavailable", Severity: engine.SeverityMedium,
			Message: msg, Entity: kind, Text: "guard model call failed (" + kind + ") on " + direction}
		if l.cfg.OnError == OnErrorOpen {
			return engine.Decision{Action: engine.Flag, Rule: f.Rule, Findings: []engine.Finding{f}}
		}
		return engine.Decision{Action: engine.Block, Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Rule: f.Rule, Reason: "The content safety check is unavailable; try again later.",
			Findings: []engine.Finding{f}}
	}
	if !v.unsafe {
		return engine.Allowed
	}
	var findings []engine.Finding
	block := len(v.categories) == 0 // unsafe without a category: block
	var names []string
	for _, c := range v.categories {
		name := l.names[c]
		names = append(names, c+" "+name)
		findings = append(findings, engine.Finding{Layer: Name, Rule: Name + "." + c, Severity: engine.SeverityHigh,
			Message: msg, Entity: c, Text: "unsafe " + direction + ": " + name})
		if l.blocks == nil || l.blocks[c] {
			block = true
		}
	}
	if len(findings) == 0 {
		findings = append(findings, engine.Finding{Layer: Name, Rule: Name + ".unsafe", Severity: engine.SeverityHigh,
			Message: msg, Text: "unsafe " + direction + " (no category given)"})
	}
	d := engine.Decision{Action: engine.Flag, Rule: findings[0].Rule, Findings: findings}
	if block {
		d.Action, d.Status, d.Code = engine.Block, http.StatusBadRequest, CodeUnsafe
		d.Reason = "The content was classified unsafe"
		if len(names) > 0 {
			d.Reason += " (" + strings.Join(names, ", ") + ")"
		}
		d.Reason += "."
	}
	return d
}

func ctxOf(tx *engine.Tx) context.Context {
	if tx.Ctx != nil {
		return tx.Ctx
	}
	return context.Background()
}

// OnRequest classifies the conversation's last user turn in context.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	if !*l.cfg.Input || tx.Request == nil {
		return engine.Allowed, nil
	}
	turns := l.requestTurns(tx.Request)
	if len(turns) == 0 {
		return engine.Allowed, nil
	}
	v, err := l.classify(ctxOf(tx), "input", turns)
	return l.decide("input", len(tx.Request.Messages)-1, v, err), nil
}

// OnResponse classifies each choice of a whole response as the Agent turn.
func (l *Layer) OnResponse(tx *engine.Tx, resp *conv.Response) (engine.Decision, error) {
	if !l.cfg.Output || resp == nil {
		return engine.Allowed, nil
	}
	var out engine.Decision
	for i := range resp.Choices {
		text := resp.Choices[i].Message.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		v, err := l.classify(ctxOf(tx), "output", l.outputTurns(tx, text))
		d := l.decide("output", resp.Choices[i].Index, v, err)
		out = merge(out, d)
		if out.Action == engine.Block {
			break
		}
	}
	return out, nil
}

// merge combines two decisions: the stronger action wins, findings add up.
func merge(a, b engine.Decision) engine.Decision {
	f := append(a.Findings, b.Findings...)
	if b.Action > a.Action {
		a = b
	}
	a.Findings = f
	return a
}
