package spotlight

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// Name is the layer's name in config, metrics and audit.
const Name = "spotlight"

// Transaction state keys (strings) for the output side.
const (
	StateBoundary = "spotlight.boundary" // delimit: opening delimiter "<<UNTRUSTED_8f3a…>>"; datamark: the marker
	StateEnd      = "spotlight.end"      // closing delimiter
	StateMode     = "spotlight.mode"     // "delimit" or "datamark"
)

// Module registers the layer in the chain (layers/chain.go). It should run
// after the detectors (which must see the original text) and after
// inputpolicy (which may rewrite the system segment).
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

// Layer is the spotlighting layer.
type Layer struct {
	cfg         Config
	provisioned bool
	// datamarkInstr is the datamark instruction with the marker filled in.
	datamarkInstr string
	// delimitParts is the delimit instruction split around its
	// placeholders; odd entries are "{start}" or "{end}".
	delimitParts []string
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer { return &Layer{cfg: cfg} }

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator (pure: no clients, no
// I/O), so that `rampart config validate` checks what Provision would.
func (l *Layer) ValidateConfig() error { return l.cfg.Validate() }

// Provision checks the configuration and prepares the fixed instruction.
func (l *Layer) Provision(*engine.Host) error {
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	l.datamarkInstr = strings.ReplaceAll(l.cfg.DatamarkInstruction, "{marker}", l.cfg.Marker)
	l.delimitParts = splitPlaceholders(l.cfg.DelimitInstruction)
	l.provisioned = true
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if !l.provisioned {
		return fmt.Errorf("spotlight: not provisioned")
	}
	return nil
}

func (l *Layer) methodFor(route string) string {
	if m, ok := l.cfg.Routes[route]; ok {
		return m
	}
	return l.cfg.Method
}

func untrusted(s *conv.Segment) bool {
	return s.Text != "" && (s.Source == conv.SourceDocument || s.Source == conv.SourceTool)
}

// OnRequest marks untrusted segments and adds the instruction.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	c := tx.Request
	if c == nil {
		return engine.Allowed, nil
	}
	method := l.methodFor(tx.Route)
	if method == MethodOff {
		return engine.Allowed, nil
	}
	var findings []engine.Finding
	var start, end, instr string
	c.EachSegment(func(mi int, _ conv.Role, s *conv.Segment) {
		if !untrusted(s) {
			return
		}
		if start == "" { // first untrusted segment: set up this request's markers
			if method == MethodDelimit {
				id := newID()
				start, end = "<<UNTRUSTED_"+id+">>", "<<END_UNTRUSTED_"+id+">>"
				instr = l.delimitInstruction(start, end)
			} else {
				start, instr = l.cfg.Marker, l.datamarkInstr
			}
		}
		if method == MethodDelimit {
			s.Text = start + "\n" + s.Text + "\n" + end
		} else {
			s.Text = Datamark(s.Text, l.cfg.Marker)
		}
		findings = append(findings, engine.Finding{Layer: Name, Rule: Name + "." + method,
			Severity: engine.SeverityLow, Message: mi, Text: string(s.Source) + " text " + method + "ed"})
	})
	if len(findings) == 0 {
		return engine.Allowed, nil
	}
	tx.SetState(StateMode, method)
	tx.SetState(StateBoundary, start)
	if method == MethodDelimit {
		tx.SetState(StateEnd, end)
	}
	if !l.addInstruction(c, instr) {
		findings = append(findings, engine.Finding{Layer: Name, Rule: Name + ".no_instruction",
			Severity: engine.SeverityLow, Message: -1, Text: "no system or user segment for the spotlight instruction"})
	}
	return engine.Decision{Action: engine.Modify, Rule: Name + "." + method, Findings: findings}, nil
}

// addInstruction appends instr to the first system segment, or prepends it
// to the first user segment per instruction_fallback.
func (l *Layer) addInstruction(c *conv.Conversation, instr string) bool {
	if s := firstSystem(c); s != nil {
		if s.Text == "" {
			s.Text = instr
		} else {
			s.Text += "\n\n" + instr
		}
		return true
	}
	if l.cfg.InstructionFallback == FallbackNone {
		return false
	}
	for mi := range c.Messages {
		m := &c.Messages[mi]
		if m.Role != conv.RoleUser {
			continue
		}
		for si := range m.Segments {
			if s := &m.Segments[si]; s.Source == conv.SourceUser {
				s.Text = instr + "\n\n" + s.Text
				return true
			}
		}
	}
	return false
}

// firstSystem returns the first system/developer segment, or nil.
func firstSystem(c *conv.Conversation) *conv.Segment {
	if len(c.System) > 0 {
		return &c.System[0]
	}
	for mi := range c.Messages {
		m := &c.Messages[mi]
		if (m.Role == conv.RoleSystem || m.Role == conv.RoleDeveloper) && len(m.Segments) > 0 {
			return &m.Segments[0]
		}
	}
	return nil
}

// newID returns 16 random hex digits (64 bits from crypto/rand).
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// Datamark replaces every space (U+0020) in s with marker. Other
// whitespace (newlines, tabs) is kept so that the text's layout survives.
func Datamark(s, marker string) string {
	return strings.ReplaceAll(s, " ", marker)
}

// splitPlaceholders splits tmpl into literal text and "{start}"/"{end}"
// placeholders (odd indexes).
func splitPlaceholders(tmpl string) []string {
	var parts []string
	for {
		i := strings.Index(tmpl, "{start}")
		j := strings.Index(tmpl, "{end}")
		k, n := i, len("{start}")
		if k < 0 || (j >= 0 && j < k) {
			k, n = j, len("{end}")
		}
		if k < 0 {
			return append(parts, tmpl)
		}
		parts = append(parts, tmpl[:k], tmpl[k:k+n])
		tmpl = tmpl[k+n:]
	}
}

// delimitInstruction fills the delimit instruction for this request.
func (l *Layer) delimitInstruction(start, end string) string {
	var b strings.Builder
	b.Grow(len(l.cfg.DelimitInstruction) + 4*len(end))
	for i, p := range l.delimitParts {
		switch {
		case i%2 == 0:
			b.WriteString(p)
		case p == "{start}":
			b.WriteString(start)
		default:
			b.WriteString(end)
		}
	}
	return b.String()
}
