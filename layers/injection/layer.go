package injection

import (
	"errors"
	"fmt"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/engine"
)

// Name is the layer's name in config, metrics and audit.
const Name = "injection"

// Code is the error code of a block.
const Code = "prompt_injection_detected"

// Module registers the layer in the chain (layers/chain.go).
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeEnforce,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg := Defaults()
		if err := decode(&cfg); err != nil {
			return nil, fmt.Errorf("injection: config: %w", err)
		}
		return New(cfg), nil
	},
}

// Layer is the injection layer.
type Layer struct {
	cfg Config
	det *detect.Detector
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer {
	cfg.fill()
	return &Layer{cfg: cfg}
}

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// Provision loads the detector (embedded model and rules).
func (l *Layer) Provision(*engine.Host) error {
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	d, err := detect.New(l.cfg.DetectOptions())
	if err != nil {
		return fmt.Errorf("injection: %w", err)
	}
	l.det = d
	return nil
}

// Detector is the provisioned detector (nil before Provision); the gateway
// shares it with POST /v1/scan.
func (l *Layer) Detector() *detect.Detector { return l.det }

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.det == nil {
		return errors.New("injection: not provisioned")
	}
	return l.cfg.Validate()
}

// Config returns the effective configuration.
func (l *Layer) Config() Config { return l.cfg }

// roleOf maps a segment's source to the detector's role; ok is false for
// text the layer does not scan under cfg.
func (l *Layer) roleOf(role conv.Role, s *conv.Segment) (detect.Role, bool) {
	switch s.Source {
	case conv.SourceDocument:
		return detect.RoleDocument, true
	case conv.SourceTool:
		return detect.RoleTool, true
	case conv.SourceSystem:
		return detect.RoleSystem, l.cfg.ScanSystem
	case conv.SourceAssistant:
		return detect.RoleAssistant, l.cfg.ScanAssistant
	case conv.SourceUser:
		return detect.RoleUser, true
	}
	// Unknown source: fall back on the chat role.
	switch role {
	case conv.RoleTool:
		return detect.RoleTool, true
	case conv.RoleSystem, conv.RoleDeveloper:
		return detect.RoleSystem, l.cfg.ScanSystem
	case conv.RoleAssistant:
		return detect.RoleAssistant, l.cfg.ScanAssistant
	}
	return detect.RoleUser, true
}

// OnRequest scans every segment of the request.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	if l.det == nil {
		return engine.Decision{}, errors.New("injection: not provisioned")
	}
	if tx.Request == nil {
		return engine.Allowed, nil
	}
	return l.Inspect(tx.Request), nil
}

// Inspect scans a conversation and returns the layer's decision.
func (l *Layer) Inspect(c *conv.Conversation) engine.Decision {
	var (
		findings []engine.Finding
		act      engine.Action
		rule     string
		reason   string
		best     float64
	)
	raise := func(a engine.Action, r, why string, score float64) {
		if a > act || (a == act && score > best) {
			act, rule, reason, best = a, r, why, score
		}
	}
	var tools []string
	for _, t := range c.Tools {
		tools = append(tools, t.Name)
	}
	c.EachSegment(func(mi int, role conv.Role, s *conv.Segment) {
		dr, ok := l.roleOf(role, s)
		if !ok || s.Text == "" {
			return
		}
		var ctx *detect.Context
		if dr.Untrusted() {
			ctx = &detect.Context{UserRequest: lastUserTurn(c, mi), Tools: tools}
		}
		res := l.det.ScanContext(s.Text, dr, ctx)
		hit := res.Flagged || (res.SpecialToken && l.cfg.SpecialTokens != ActionIgnore)
		if !hit {
			return
		}
		where := fmt.Sprintf("message %d (%s)", mi, dr)
		if mi < 0 {
			where = "system prompt"
		}
		for _, f := range res.Findings {
			if f.Rule == detect.RuleSpecialToken && l.cfg.SpecialTokens == ActionIgnore {
				continue
			}
			msg := f.Message
			if f.Decoding != "" {
				msg += " [decoded: " + f.Decoding + "]"
			}
			findings = append(findings, engine.Finding{Layer: Name, Rule: f.Rule, Severity: engine.Severity(f.Severity),
				Score: res.Score, Message: mi, Start: f.Start, End: f.End, Text: msg})
		}
		if res.Flagged {
			raise(actionOf(l.cfg.Action), topRule(res), "prompt injection detected in "+where, res.Score)
		}
		if res.SpecialToken && l.cfg.SpecialTokens != ActionIgnore {
			raise(actionOf(l.cfg.SpecialTokens), detect.RuleSpecialToken, "chat-template control token in "+where, res.Score)
		}
	})
	if act == engine.Allow {
		return engine.Allowed
	}
	d := engine.Decision{Action: act, Rule: rule, Findings: findings}
	if act == engine.Block {
		d.Status, d.Code, d.Reason = 400, Code, reason
	}
	return d
}

// lastUserTurn is the text of the last user message before message mi
// (the request the data at mi answers; mi < 0: none).
func lastUserTurn(c *conv.Conversation, mi int) string {
	for i := min(mi, len(c.Messages)) - 1; i >= 0; i-- {
		m := &c.Messages[i]
		if m.Role != conv.RoleUser {
			continue
		}
		for _, s := range m.Segments {
			if s.Source == conv.SourceUser || s.Source == "" {
				return m.Text()
			}
		}
	}
	return ""
}

func actionOf(s string) engine.Action {
	if s == ActionFlag {
		return engine.Flag
	}
	return engine.Block
}

// topRule names the strongest evidence of a flagged result: the rule hit
// of highest severity, else the classifier.
func topRule(r detect.Result) string {
	best, rank := detect.RuleModel, 0
	for _, f := range r.Findings {
		if f.Rule == detect.RuleModel || f.Rule == detect.RuleSpecialToken {
			continue
		}
		if k := severityRank(f.Severity); k > rank {
			best, rank = f.Rule, k
		}
	}
	return best
}

func severityRank(s string) int {
	switch s {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}
