package injection

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
			return nil, err // decode names the section and the line of the key
		}
		return New(cfg), nil
	},
}

// Layer is the injection layer.
type Layer struct {
	cfg   Config
	det   *detect.Detector
	cache *scanCache // results of texts scanned before (cache.go)
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer {
	cfg.fill()
	return &Layer{cfg: cfg}
}

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator (pure: no clients, no
// I/O), so that `rampart config validate` checks what Provision would.
func (l *Layer) ValidateConfig() error { return l.cfg.Validate() }

// Provision loads the detector (embedded model and rules).
func (l *Layer) Provision(*engine.Host) error {
	if err := l.cfg.Validate(); err != nil {
		return err
	}
	d, err := detect.New(l.cfg.DetectOptions())
	if err != nil {
		return fmt.Errorf("injection: %w", err)
	}
	l.det, l.cache = d, newScanCache()
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
	case conv.SourceTool, conv.SourceToolDef:
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

// scanText is the detector's result for text, remembered for texts sent
// again (cache.go).
func (l *Layer) scanText(text string, dr detect.Role, ctx *detect.Context) detect.Result {
	if l.cache == nil || !cacheable(text) {
		return l.det.ScanContext(text, dr, ctx)
	}
	k := keyOf(text, dr, ctx)
	if k.size() > cacheMaxKey {
		return l.det.ScanContext(text, dr, ctx)
	}
	if r, ok := l.cache.get(k); ok {
		return r
	}
	r := l.det.ScanContext(text, dr, ctx)
	l.cache.put(k, r)
	return r
}

// TokenPart is the part type of token-id input (Message.Parts): refused on
// generating routes unless allow_unknown_parts names it.
const TokenPart = "tokens"

// Codes of refusals other than a detection.
const (
	CodeUnknownPart = "unsupported_content_type"
	CodeTooLong     = "text_too_long_to_scan"
)

// Inspect scans a conversation and returns the layer's decision: every
// message segment by its source, the read-only text the model also reads
// (tool definitions, names, titles, decoded text files), a client-written
// final assistant turn (prefill) as user text, and the concatenated
// user-controlled text (attacks split into fragments over messages or
// parts). Content parts the adapter does not know are refused unless
// allowed by name.
func (l *Layer) Inspect(c *conv.Conversation) engine.Decision {
	if d, stop := l.refuseUnknown(c); stop {
		return d
	}
	var (
		findings []engine.Finding
		act      engine.Action
		rule     string
		reason   string
		best     float64
		tooLong  string
		users    []string // user-controlled texts, most recent last (joined below when more than one)
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
	scan := func(mi int, where string, text string, dr detect.Role, rulesOnly bool) {
		if l.cfg.LongText == LongTextRefuse && len(text) > l.cfg.MaxScanBytes && tooLong == "" {
			tooLong = where
			return
		}
		var ctx *detect.Context
		if dr.Untrusted() && !rulesOnly {
			ctx = &detect.Context{UserRequest: c.UserTurnBefore(mi), Tools: tools}
		}
		res := l.scanText(text, dr, ctx)
		if rulesOnly {
			res.Flagged = ruleVerdict(res)
		}
		hit := res.Flagged || (res.SpecialToken && l.cfg.SpecialTokens != ActionIgnore)
		if !hit {
			return
		}
		for _, f := range res.Findings {
			if f.Rule == detect.RuleSpecialToken && l.cfg.SpecialTokens == ActionIgnore {
				continue
			}
			msg := f.Message
			if f.Decoding != "" {
				msg += " [decoded: " + f.Decoding + "]"
			}
			if mi == -1 && where != "system prompt" {
				msg += " [in " + where + "]"
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
	}
	prefill := l.prefillIndex(c)
	c.EachSegment(func(mi int, role conv.Role, s *conv.Segment) {
		dr, ok := l.roleOf(role, s)
		if mi >= 0 && mi == prefill {
			dr, ok = detect.RoleUser, true
		}
		if !ok || s.Text == "" {
			return
		}
		where := fmt.Sprintf("message %d (%s)", mi, dr)
		if mi < 0 {
			where = "system prompt"
		}
		scan(mi, where, s.Text, dr, false)
		if dr == detect.RoleUser {
			users = append(users, s.Text)
		}
	})
	for i := range c.ReadOnly {
		s := &c.ReadOnly[i]
		dr, ok := l.roleOf("", s)
		if !ok || s.Text == "" {
			continue
		}
		// Tool definitions address the model by design ("always call
		// this tool before answering"), which the classifier reads as an
		// instruction: there only rule hits count.
		scan(-1, s.Path, s.Text, dr, s.Source == conv.SourceToolDef)
	}
	// Fragments: each piece may be harmless alone. The concatenation is
	// bounded to the last max_scan_bytes (one detector window).
	if len(users) > 1 && act != engine.Block && (tooLong == "" || l.cfg.LongText != LongTextRefuse) {
		scan(-1, "the user messages read together", joinTail(users, l.cfg.MaxScanBytes), detect.RoleUser, false)
	}
	if tooLong != "" && act != engine.Block {
		return engine.Decision{Action: engine.Block, Rule: Name + ".long_text", Status: 413, Code: CodeTooLong,
			Reason: fmt.Sprintf("The text in %s is longer than the %d bytes this gateway scans (long_text: refuse).",
				tooLong, l.cfg.MaxScanBytes),
			Findings: append(findings, engine.Finding{Layer: Name, Rule: Name + ".long_text", Severity: engine.SeverityMedium,
				Message: -1, Text: "text longer than max_scan_bytes refused"})}
	}
	if act == engine.Allow {
		return engine.Allowed
	}
	d := engine.Decision{Action: act, Rule: rule, Findings: findings}
	if act == engine.Block {
		d.Status, d.Code, d.Reason = 400, Code, reason
	}
	return d
}

// prefillIndex is the index of a final assistant message the client wrote
// for the model to continue (prefill: chat, a Responses API assistant
// message item, a Gemini "model" content), or -1.
func (l *Layer) prefillIndex(c *conv.Conversation) int {
	switch c.Kind {
	case conv.KindChat, conv.KindResponses, conv.KindGenerateContent:
	default:
		return -1
	}
	if !*l.cfg.ScanPrefill || len(c.Messages) == 0 {
		return -1
	}
	if i := len(c.Messages) - 1; c.Messages[i].Role == conv.RoleAssistant {
		return i
	}
	return -1
}

// refuseUnknown blocks a request carrying a content part of a type the
// adapter does not know, unless allow_unknown_parts names it.
func (l *Layer) refuseUnknown(c *conv.Conversation) (engine.Decision, bool) {
	unknown := c.Unknown
	if c.Kind != conv.KindEmbedding {
		// A prompt of token ids (legacy completions) holds text the layer
		// cannot read; an embedding of them puts nothing before a model.
		for i := range c.Messages {
			if c.Messages[i].Parts[TokenPart] > 0 {
				unknown = append(slices.Clip(unknown), conv.UnknownPart{Type: TokenPart, Path: "prompt"})
				break
			}
		}
	}
	for _, u := range unknown {
		if slices.Contains(l.cfg.AllowUnknownParts, u.Type) || slices.Contains(l.cfg.AllowUnknownParts, "*") {
			continue
		}
		return engine.Decision{Action: engine.Block, Rule: Name + ".unknown_part", Status: 400, Code: CodeUnknownPart,
			Reason: fmt.Sprintf("Content of type %q (at %s) is not inspected by this gateway and is refused; "+
				"an operator may allow it with layers.injection.allow_unknown_parts.", u.Type, u.Path),
			Findings: []engine.Finding{{Layer: Name, Rule: Name + ".unknown_part", Severity: engine.SeverityMedium,
				Message: -1, Entity: u.Type, Text: "unknown content part " + u.Path}}}, true
	}
	return engine.Decision{}, false
}

// ruleVerdict reports a critical or high-severity rule hit in r (the
// classifier's score aside).
func ruleVerdict(r detect.Result) bool {
	for _, f := range r.Findings {
		if f.Rule != detect.RuleModel && f.Rule != detect.RuleSpecialToken && severityRank(f.Severity) >= 3 {
			return true
		}
	}
	return false
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

// joinTail is the concatenation of texts cut to its last max bytes (at a
// rune start), built in one allocation of at most max bytes.
func joinTail(texts []string, max int) string {
	n := 0
	for _, t := range texts {
		n += len(t)
	}
	skip := 0 // bytes dropped from the front
	if n > max {
		skip = n - max
	}
	var b strings.Builder
	b.Grow(n - skip)
	for _, t := range texts {
		if skip >= len(t) {
			skip -= len(t)
			continue
		}
		b.WriteString(t[skip:])
		skip = 0
	}
	out := b.String()
	if n <= max {
		return out
	}
	cut := 0
	for cut < len(out) && !utf8.RuneStart(out[cut]) {
		cut++
	}
	return out[cut:]
}
