package inputpolicy

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/normtext"
)

// Name is the layer's name in config, metrics and audit.
const Name = "inputpolicy"

// Error codes of blocks (error.code in the client's answer).
const (
	CodeContextLength   = "context_length_exceeded"
	CodeMessageTooLarge = "message_too_large"
	CodeTooManyMessages = "too_many_messages"
	CodeTooManyTools    = "too_many_tools"
	CodeToolsTooLarge   = "tools_too_large"
	CodeContentType     = "unsupported_content_type"
	CodeRoleNotAllowed  = "role_not_allowed"
	CodeSystemRequired  = "system_prompt_required"
	CodeRoleMarker      = "role_marker_detected"
)

// Module registers the layer in the chain (layers/chain.go). It should run
// early (after identity and rate limits), and before spotlight and canary,
// which append to the system segment this layer may rewrite.
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

// compiled is a policy ready to apply.
type compiled struct {
	Policy
	parts map[string]bool // allowed part types and categories; nil: any
}

// Layer is the input policy layer.
type Layer struct {
	cfg     Config
	base    *compiled
	named   map[string]*compiled
	markers *markerSet
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer { return &Layer{cfg: cfg} }

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator: the base policy and
// every named one, each with what it inherits, reporting every invalid one.
func (l *Layer) ValidateConfig() error {
	_, _, err := l.cfg.policies()
	return err
}

// policies resolves and checks the base policy and the named ones.
func (c Config) policies() (Policy, map[string]Policy, error) {
	base := c.Policy.inherit(Defaults().Policy)
	var errs []error
	if err := base.validate(); err != nil {
		errs = append(errs, fmt.Errorf("inputpolicy: %w", err))
	}
	named := make(map[string]Policy, len(c.Policies))
	for _, name := range slices.Sorted(maps.Keys(c.Policies)) {
		p := c.Policies[name].inherit(base)
		if err := p.validate(); err != nil {
			errs = append(errs, fmt.Errorf("inputpolicy: policies.%s: %w", name, err))
		}
		named[name] = p
	}
	return base, named, errors.Join(errs...)
}

// Provision resolves named policies and compiles the role-marker rules.
func (l *Layer) Provision(*engine.Host) error {
	base, named, err := l.cfg.policies()
	if err != nil {
		return err
	}
	l.base = compile(base)
	l.named = make(map[string]*compiled, len(named))
	for name, p := range named {
		l.named[name] = compile(p)
	}
	l.markers = newMarkerSet()
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.base == nil || l.markers == nil {
		return fmt.Errorf("inputpolicy: not provisioned")
	}
	return nil
}

func compile(p Policy) *compiled {
	c := &compiled{Policy: p}
	if len(p.AllowedParts) > 0 {
		c.parts = make(map[string]bool, len(p.AllowedParts))
		for _, s := range p.AllowedParts {
			c.parts[s] = true
		}
	}
	return c
}

func (l *Layer) policyFor(tx *engine.Tx) *compiled {
	if tx.Identity != nil && tx.Identity.Policy != "" {
		if p, ok := l.named[tx.Identity.Policy]; ok {
			return p
		}
	}
	return l.base
}

// verdict accumulates what one request check found.
type verdict struct {
	block    *engine.Decision
	modified bool
	findings []engine.Finding
}

func (v *verdict) add(f engine.Finding) {
	f.Layer = Name
	v.findings = append(v.findings, f)
}

// stop blocks with status and code; f (whose Rule names the rule) backs it.
func (v *verdict) stop(status int, code, reason string, f engine.Finding) {
	if v.block != nil {
		return
	}
	v.block = &engine.Decision{Action: engine.Block, Status: status, Code: code, Rule: f.Rule, Reason: reason}
	if f.Severity == "" {
		f.Severity = engine.SeverityMedium
	}
	if f.Text == "" {
		f.Text = reason
	}
	v.add(f)
}

func (v *verdict) decision() engine.Decision {
	if v.block != nil {
		d := *v.block
		d.Findings = v.findings
		return d
	}
	switch {
	case v.modified:
		return engine.Decision{Action: engine.Modify, Rule: v.findings[0].Rule, Findings: v.findings}
	case len(v.findings) > 0:
		return engine.Decision{Action: engine.Flag, Rule: v.findings[0].Rule, Findings: v.findings}
	}
	return engine.Allowed
}

// OnRequest checks shape, roles and size, applies the tenant system
// prompt, and looks for fake role markers.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	c := tx.Request
	if c == nil {
		return engine.Allowed, nil
	}
	p := l.policyFor(tx)
	var v verdict
	checkShape(p, c, &v)
	if v.block == nil {
		checkClientSystem(p, c, &v)
	}
	if v.block == nil {
		checkSize(p, c, &v)
	}
	if v.block == nil && p.RoleMarkers != ActionOff {
		l.markers.scan(tx, p, c, &v)
	}
	if v.block == nil {
		applySystemPrompt(p, c, &v)
	}
	return v.decision(), nil
}

// systemSegments calls fn for every system/developer segment, top-level
// system prompt first.
func systemSegments(c *conv.Conversation, fn func(msg int, s *conv.Segment)) {
	for i := range c.System {
		fn(-1, &c.System[i])
	}
	for mi := range c.Messages {
		m := &c.Messages[mi]
		if m.Role != conv.RoleSystem && m.Role != conv.RoleDeveloper {
			continue
		}
		for si := range m.Segments {
			fn(mi, &m.Segments[si])
		}
	}
}

// OnFinish implements engine.FinishLayer: it returns the transaction's
// shared normalised text (layers/internal/normtext) to its pool.
func (l *Layer) OnFinish(tx *engine.Tx) { normtext.Release(tx) }
