package mcpgw

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/detect/rules"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
)

//go:embed poison.yaml
var poisonYAML []byte

// Finding layer and rule names of the MCP checks.
const (
	Layer = "mcp"

	RuleInvisible     = "mcp-invisible-text"
	RulePadding       = "mcp-hidden-by-padding"
	RuleSpecialToken  = "mcp-special-token"
	RuleChanged       = "mcp-definition-changed"
	RuleUnapproved    = "mcp-definition-unapproved"
	RuleToolDenied    = "mcp-tool-not-allowed"
	RuleSchema        = "mcp-arguments-schema"
	RuleURLHost       = "mcp-url-host"
	RuleInjection     = "mcp-injection"
	RuleSecret        = "mcp-secret"
	RulePII           = "mcp-pii"
	RuleServerAccess  = "mcp-server-not-allowed"
	RuleTooLarge      = "mcp-too-large"
	RuleBadMessage    = "mcp-bad-message"
	RuleUnavailable   = "mcp-check-unavailable"
	RuleUnknownMethod = "mcp-unknown-method"
)

// maxDescribed bounds the text of one definition that is scanned (every
// description of a tool together); a longer definition is withheld.
const maxDescribed = 256 << 10

// poisonChecker finds tool poisoning in definitions: the rules of
// poison.yaml on the normalised text, invisible or padded text, chat
// special tokens, and the injection detector with the untrusted (tool)
// threshold.
type poisonChecker struct {
	rules *rules.Set
	scan  *scan.Scanner // may be nil (rules only)
}

func newPoisonChecker(sc *scan.Scanner) (*poisonChecker, error) {
	rs, err := rules.Parse(poisonYAML)
	if err != nil {
		return nil, fmt.Errorf("mcpgw: poison rules: %w", err)
	}
	return &poisonChecker{rules: rs, scan: sc}, nil
}

// check reports the findings on one definition's text (its descriptions
// joined by newlines) and whether they make it poisoned.
func (p *poisonChecker) check(text string) (findings []engine.Finding, poisoned bool) {
	if len(text) > maxDescribed {
		return []engine.Finding{{Layer: Layer, Rule: RuleTooLarge, Severity: engine.SeverityHigh,
			Text: "definition text over 256 KiB"}}, true
	}
	if text == "" {
		return nil, false
	}
	norm := normalize.Normalize(text, normalize.Options{KeepNewlines: true})
	add := func(rule string, sev engine.Severity, start, end int, msg string) {
		findings = append(findings, engine.Finding{Layer: Layer, Rule: rule, Severity: sev, Start: start, End: end, Text: msg})
	}
	hidden := 0
	var smuggled []string
	for _, h := range norm.Hidden {
		switch h.Kind {
		case normalize.KindTag:
			hidden += h.Count
			smuggled = append(smuggled, h.Decoded)
			add(RuleInvisible, engine.SeverityCritical, h.Start, h.End, "tag characters spell hidden text")
		case normalize.KindSpecialToken:
			add(RuleSpecialToken, engine.SeverityHigh, h.Start, h.End, "chat-template control token")
		case normalize.KindZeroWidth, normalize.KindBidi, normalize.KindFormat, normalize.KindControl, normalize.KindFiller:
			hidden += h.Count
		}
	}
	// A zero-width joiner in an emoji is normal; a run of invisible
	// characters in a description is not.
	if hidden >= 3 && !hasRule(findings, RuleInvisible) {
		add(RuleInvisible, engine.SeverityHigh, 0, 0, fmt.Sprintf("%d invisible characters", hidden))
	}
	if start, ok := padded(text); ok {
		add(RulePadding, engine.SeverityHigh, start, start, "text pushed out of view by a long run of blank lines or spaces")
	}
	texts := append([]string{norm.Norm}, smuggled...)
	var sc rules.Scratch
	medium := map[string]bool{}
	for ti, t := range texts {
		if ti > 0 {
			t = normalize.Normalize(t, normalize.Options{KeepNewlines: true}).Norm
		}
		for _, h := range p.rules.Match(t, true, &sc, nil) {
			start, end := 0, 0
			if ti == 0 {
				start, end = norm.OrigSpan(h.Start, h.End)
			}
			sev := engine.Severity(h.Rule.Severity)
			add(h.Rule.ID, sev, start, end, h.Rule.Description)
			if sev == engine.SeverityMedium {
				medium[h.Rule.ID] = true
			}
		}
	}
	if p.scan != nil {
		for _, t := range texts {
			res := p.scan.Scan(scan.Item{Text: t, Role: "tool"}, scan.Input)
			if !res.Flagged || !byRules(res) {
				continue
			}
			add(RuleInjection, engine.SeverityHigh, 0, 0, fmt.Sprintf("injection detector score %.2f", res.Score))
			for _, f := range res.Findings {
				findings = append(findings, engine.Finding{Layer: Layer, Rule: "injection." + f.Rule,
					Severity: engine.Severity(f.Severity), Score: f.Score, Start: f.Start, End: f.End, Text: f.Message})
			}
		}
	}
	for _, f := range findings {
		if f.Severity == engine.SeverityHigh || f.Severity == engine.SeverityCritical {
			poisoned = true
		}
	}
	if len(medium) >= 2 {
		poisoned = true
	}
	return dedupe(findings), poisoned
}

// classifierOnly is the score above which the detector's classifier alone
// (no rule hit) makes a definition poisoned. A tool description is written
// to instruct the model ("Read the complete contents of a file …"), which
// the classifier, trained on prompts and documents, takes for an
// injection at its usual thresholds: below this, definitions are judged by
// the rules (the detector's and poison.yaml's).
const classifierOnly = 0.97

// byRules reports whether a flagged detector result rests on a rule, or
// on a classifier score high enough to stand alone.
func byRules(res scan.Result) bool {
	for _, f := range res.Findings {
		if f.Rule != detect.RuleModel {
			return true
		}
	}
	return res.Score >= classifierOnly
}

// padded reports text hidden after a long blank run (40 or more spaces,
// or 8 or more line breaks in a row, followed by more text), and where
// the hidden part starts (in code points).
func padded(text string) (int, bool) {
	spaces, breaks, runes := 0, 0, 0
	for _, r := range text {
		runes++
		switch r {
		case ' ', '\t', '\u00a0', '\u3000':
			spaces++
		case '\n', '\r':
			breaks++
		default:
			if spaces >= 40 || breaks >= 8 {
				return runes - 1, true
			}
			spaces, breaks = 0, 0
		}
	}
	return 0, false
}

func hasRule(fs []engine.Finding, rule string) bool {
	for _, f := range fs {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// dedupe keeps the first finding of each rule and span, in a stable order.
func dedupe(fs []engine.Finding) []engine.Finding {
	seen := map[string]bool{}
	out := fs[:0]
	for _, f := range fs {
		k := fmt.Sprintf("%s/%d/%d", f.Rule, f.Start, f.End)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// ruleIDs lists the distinct rule ids of findings, for a reason string.
func ruleIDs(fs []engine.Finding) string {
	seen := map[string]bool{}
	var ids []string
	for _, f := range fs {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			ids = append(ids, f.Rule)
		}
	}
	return strings.Join(ids, ",")
}
