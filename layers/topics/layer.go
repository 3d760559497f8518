package topics

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/normtext"
)

// Name is the layer's name in config, metrics and audit.
const Name = "topics"

// Error codes of blocks.
const (
	CodeTopic    = "topic_not_allowed"
	CodeOffTopic = "off_topic"
)

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

// rails is a compiled Rails.
type rails struct {
	rules       *matcher
	allow       *matcher // nil: no allow-topic mode
	allowAction string
}

// Layer is the topic rails layer.
type Layer struct {
	cfg   Config
	base  *rails
	named map[string]*rails
	pool  sync.Pool // *scratch
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer { return &Layer{cfg: cfg} }

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

func compileRails(rules []Rule, r Rails) (*rails, error) {
	out := &rails{allowAction: r.AllowAction}
	if out.allowAction == "" {
		out.allowAction = ActionBlock
	}
	if out.allowAction != ActionBlock && out.allowAction != ActionFlag {
		return nil, fmt.Errorf("allow_action %q: want block or flag", out.allowAction)
	}
	var err error
	if out.rules, err = compileRules(rules, false); err != nil {
		return nil, err
	}
	if len(r.AllowTopics) > 0 {
		if out.allow, err = compileRules(r.AllowTopics, true); err != nil {
			return nil, fmt.Errorf("allow_topics: %w", err)
		}
	}
	return out, nil
}

// ValidateConfig implements engine.ConfigValidator: it builds every rail
// (pure: patterns and examples, no I/O) and reports every invalid one.
func (l *Layer) ValidateConfig() error {
	_, _, err := l.cfg.rails()
	return err
}

// rails builds the base rails and the named policies' rails.
func (c Config) rails() (*rails, map[string]*rails, error) {
	var errs []error
	base, err := compileRails(c.Rules, c.Rails)
	if err != nil {
		errs = append(errs, fmt.Errorf("topics: %w", err))
	}
	named := make(map[string]*rails, len(c.Policies))
	for _, name := range slices.Sorted(maps.Keys(c.Policies)) {
		p := c.Policies[name]
		merged := p
		if len(merged.AllowTopics) == 0 {
			merged.AllowTopics = c.AllowTopics
		}
		if merged.AllowAction == "" {
			merged.AllowAction = c.AllowAction
		}
		r, err := compileRails(append(slices.Clip(c.Rules), p.Rules...), merged)
		if err != nil {
			errs = append(errs, fmt.Errorf("topics: policies.%s: %w", name, err))
		}
		named[name] = r
	}
	return base, named, errors.Join(errs...)
}

// Provision builds the automata and example features of every rail.
func (l *Layer) Provision(*engine.Host) error {
	if l.cfg.RedactWith == "" {
		l.cfg.RedactWith = Defaults().RedactWith
	}
	base, named, err := l.cfg.rails()
	if err != nil {
		return err
	}
	l.base, l.named = base, named
	l.pool.New = func() any { return new(scratch) }
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.base == nil {
		return fmt.Errorf("topics: not provisioned")
	}
	return nil
}

func (l *Layer) railsFor(tx *engine.Tx) *rails {
	if tx.Identity != nil && tx.Identity.Policy != "" {
		if r, ok := l.named[tx.Identity.Policy]; ok {
			return r
		}
	}
	return l.base
}

// span is a code-point range to redact.
type span struct{ start, end int }

// OnRequest applies banned terms, denied topics and allowed topics.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	c := tx.Request
	r := l.railsFor(tx)
	if c == nil || (len(r.rules.rules) == 0 && r.allow == nil) {
		return engine.Allowed, nil
	}
	sc := l.pool.Get().(*scratch)
	defer l.pool.Put(sc)
	var cache *normtext.Cache // normalised text shared with other layers, on first use
	nc := func() *normtext.Cache {
		if cache == nil {
			cache = normtext.For(tx)
		}
		return cache
	}

	var d engine.Decision
	var redact []span
	onTopic, sawUser := false, false
	c.EachSegment(func(mi int, _ conv.Role, s *conv.Segment) {
		if s.Text == "" {
			return
		}
		if r.rules.appliesTo(s.Source) {
			redact = redact[:0]
			for _, h := range r.rules.scan(nc, s, sc) {
				rule := r.rules.rules[h.rule]
				f := engine.Finding{Layer: Name, Rule: rule.id, Severity: engine.SeverityLow, Message: mi,
					Start: h.start, End: h.end, Score: h.score, Text: "matched " + rule.Action + " rule " + rule.ID}
				switch rule.Action {
				case ActionBlock:
					f.Severity = engine.SeverityMedium
					if d.Action != engine.Block {
						d.Action, d.Rule, d.Code, d.Status = engine.Block, rule.id, CodeTopic, 400
						d.Reason = "The request touches a topic or term that is not allowed here (rule " + rule.ID + ")."
					}
				case ActionRedact:
					redact = append(redact, span{h.start, h.end})
				}
				d.Findings = append(d.Findings, f)
			}
			if len(redact) > 0 {
				s.Text = redactSpans(s.Text, redact, l.cfg.RedactWith)
				if d.Action != engine.Block {
					d.Action, d.Rule = engine.Modify, Name+".redact"
				}
			}
		}
		if r.allow != nil && s.Source == conv.SourceUser {
			sawUser = true
			if !onTopic && len(r.allow.scan(nc, s, sc)) > 0 {
				onTopic = true
			}
		}
	})
	if r.allow != nil && sawUser && !onTopic {
		f := engine.Finding{Layer: Name, Rule: Name + ".off_topic", Severity: engine.SeverityLow, Message: -1,
			Text: "request matches none of the allowed topics"}
		d.Findings = append(d.Findings, f)
		if r.allowAction == ActionBlock && d.Action != engine.Block {
			d.Action, d.Rule, d.Code, d.Status = engine.Block, f.Rule, CodeOffTopic, 400
			d.Reason = "This assistant only answers questions about its allowed topics."
		}
	}
	if d.Action == engine.Allow && len(d.Findings) > 0 {
		d.Action, d.Rule = engine.Flag, d.Findings[0].Rule
	}
	return d, nil
}

// redactSpans replaces the code-point spans of s with with; overlapping
// spans merge.
func redactSpans(s string, spans []span, with string) string {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	cp, i := 0, 0                 // code point index and byte index in s
	advance := func(to int) int { // byte index of code point to, from the current position
		for cp < to && i < len(s) {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			cp++
		}
		return i
	}
	last := 0 // byte index copied so far
	for k := 0; k < len(spans); k++ {
		sp := spans[k]
		for k+1 < len(spans) && spans[k+1].start <= sp.end {
			sp.end = max(sp.end, spans[k+1].end)
			k++
		}
		if sp.start < cp { // inside an earlier span
			sp.start = cp
		}
		bs := advance(sp.start)
		b.WriteString(s[last:bs])
		b.WriteString(with)
		last = advance(sp.end)
	}
	b.WriteString(s[last:])
	return b.String()
}

// OnFinish implements engine.FinishLayer: it returns the transaction's
// shared normalised text (layers/internal/normtext) to its pool.
func (l *Layer) OnFinish(tx *engine.Tx) { normtext.Release(tx) }
