package outputguard

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/pii"
	"github.com/rampart-ai/rampart/detect/redact"
	"github.com/rampart-ai/rampart/detect/secrets"
	"github.com/rampart-ai/rampart/engine"
	canarylayer "github.com/rampart-ai/rampart/layers/canary"
)

// Name is the layer's name in config, metrics and audit.
const Name = "outputguard"

// Module registers the layer for the chain (layers/chain.go).
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeEnforce,
	New: func(decode func(into any) error) (engine.Layer, error) {
		var cfg Config
		if err := decode(&cfg); err != nil {
			return nil, err
		}
		return New(cfg)
	},
}

// Layer is the output guard. Build it with New, then Provision.
type Layer struct {
	cfg      Config
	pii      *pii.Scanner
	secrets  *secrets.Scanner
	redactOp redact.Operator
	leakHist *leakHistory
	// leakShare, when set, shares leakHist between replicas (Redis).
	leakShare *leakShare
	getenv    func(string) string
	// strictHold: policy rewrites personal data other than cards (e-mail
	// addresses, phone numbers…), whose parts can be plain words, so
	// streams hold every unfinished token (tokensCut), not only key-like
	// runs (holdFrom).
	strictHold bool
	// holdLinks: images, or links, are removed, so streams hold
	// unfinished Markdown links and HTML tags (openLink).
	holdLinks bool
	// heads are the plain key heads streams hold (headsOf).
	heads []string
}

// New checks cfg and applies defaults; it compiles nothing.
func New(cfg Config) (*Layer, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Layer{cfg: cfg, holdLinks: cfg.Links.Images != "off" || cfg.Links.Links == "remove"}
	for e, a := range cfg.Output {
		if e != SecretEntity && e != pii.CreditCard && (a == ActRedact || a == ActBlock) {
			l.strictHold = true
		}
	}
	return l, nil
}

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator: the checks New ran
// (pure), so that every layer of the chain answers the same question.
func (l *Layer) ValidateConfig() error { return l.cfg.validate() }

// Provision builds the recognisers and secret rules.
func (l *Layer) Provision(h *engine.Host) error {
	var err error
	if l.pii, err = pii.New(l.cfg.PII); err != nil {
		return err
	}
	if l.secrets, err = secrets.New(l.cfg.Secrets); err != nil {
		return err
	}
	l.heads = headsOf(l.secrets)
	if l.cfg.Leak.Window > 0 {
		l.leakHist = &leakHistory{window: l.cfg.Leak.Window, entries: map[string]*leakEntry{}}
		getenv := l.getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		var log *slog.Logger
		if h != nil {
			log = h.Logger
		}
		if l.leakShare, err = newLeakShare(l.cfg.Leak, getenv, log); err != nil {
			return err
		}
	}
	switch l.cfg.RedactStyle {
	case "mask":
		l.redactOp = redact.Mask(4)
	case "hash":
		key, err := hashKey(l.cfg.HashKeyEnv)
		if err != nil {
			return err
		}
		if l.redactOp, err = redact.Hash(key, 12); err != nil {
			return err
		}
	default:
		l.redactOp = redact.Label
	}
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if l.pii == nil || l.secrets == nil || l.redactOp == nil {
		return fmt.Errorf("outputguard: not provisioned")
	}
	return nil
}

// Close implements io.Closer: it closes the shared leak history's client.
func (l *Layer) Close() error {
	if l.leakShare != nil {
		return l.leakShare.c.Close()
	}
	return nil
}

const (
	stateVault  = Name + ".vault"
	stateStream = Name + ".stream"
	stateLeak   = Name + ".leak"
	stateTools  = Name + ".tools"
)

func canaryOf(tx *engine.Tx) string {
	c, _ := canarylayer.Get(tx)
	return c
}

func vaultOf(tx *engine.Tx) *redact.Vault {
	v, _ := tx.State(stateVault).(*redact.Vault)
	return v
}

// OnRequest applies the input policy to user, document and tool text
// (system prompts are the operator's and stay untouched), and prepares
// leak detection from the system prompt.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	if tx.Request == nil {
		return engine.Allowed, nil
	}
	if lk := newLeakIndex(tx.Request, l.cfg.Leak); lk != nil && l.cfg.Leak.Action != ActOff {
		if l.leakHist != nil {
			who := ""
			if id := tx.Identity; id != nil {
				who = id.Tenant + "\x00" + id.KeyID + "\x00" + id.Subject
			}
			key := fmt.Sprintf("%s\x00%x", who, lk.promptKey())
			lk.hist = l.leakHist.get(key, len(lk.grams), time.Now())
			if l.leakShare != nil {
				lk.redisKey = l.leakShare.key(key)
				l.leakShare.load(tx.Ctx, lk.redisKey, lk.hist)
			}
		}
		tx.SetState(stateLeak, lk)
	}
	if len(l.cfg.Input) == 0 {
		return engine.Allowed, nil
	}
	var findings []engine.Finding
	var blocked *hit
	var ferr error
	tx.Request.EachSegment(func(mi int, role conv.Role, s *conv.Segment) {
		if ferr != nil || s.Source == conv.SourceSystem || s.Source == conv.SourceAssistant {
			return
		}
		hs := l.detect(s.Text, false, "")
		if len(hs) == 0 {
			return
		}
		var pseudo []redact.Span
		for i := range hs {
			if hs[i].action == ActPseudonymize {
				pseudo = append(pseudo, hs[i].Span)
			}
		}
		out, fs, b := l.rewrite(s.Text, hs, mi)
		if b != nil && blocked == nil {
			blocked = b
		}
		findings = append(findings, fs...)
		if len(pseudo) > 0 {
			v := vaultOf(tx)
			if v == nil {
				if v, ferr = redact.NewVault(); ferr != nil {
					return
				}
				tx.SetState(stateVault, v)
			}
			// redact (labels) first, then pseudonymise what is left
			out, _, _ = l.rewriteInput(s.Text, hs, v)
		}
		s.Text = out
	})
	if ferr != nil {
		return engine.Decision{}, ferr
	}
	return decide(findings, blocked, "sensitive_input", "the request contains data that policy does not allow to send"), nil
}

// rewriteInput applies redact and pseudonymize hits together.
func (l *Layer) rewriteInput(text string, hs []hit, v *redact.Vault) (string, []engine.Finding, error) {
	var spans []redact.Span
	act := map[[2]int]Action{}
	for _, h := range hs {
		if h.action == ActRedact || h.action == ActPseudonymize {
			spans = append(spans, h.Span)
			act[[2]int{h.Start, h.End}] = h.action
		}
	}
	kept := redact.Resolve(text, spans)
	var err error
	out := redact.Apply(text, kept, func(s redact.Span, val string) string {
		if act[[2]int{s.Start, s.End}] == ActPseudonymize {
			p, e := v.Placeholder(s.Entity, val)
			if e == nil {
				return p
			}
			err = e
		}
		return l.redactOp(s.Entity, val)
	})
	return out, nil, err
}

func decide(findings []engine.Finding, blocked *hit, code, reason string) engine.Decision {
	if blocked != nil {
		return engine.Decision{Action: engine.Block, Status: 400, Code: code, Reason: reason, Rule: blocked.rule, Findings: findings}
	}
	if len(findings) == 0 {
		return engine.Allowed
	}
	d := engine.Decision{Action: engine.Flag, Findings: findings, Rule: findings[0].Rule}
	for _, f := range findings {
		if !strings.HasPrefix(f.Text, string(ActFlag)) {
			d.Action = engine.Modify
		}
	}
	return d
}

// OnResponse scans every choice of a whole response: pseudonyms are
// restored after scanning, secrets and PII handled per policy, links
// checked, the system-prompt leak and canary tests run, tool calls checked.
func (l *Layer) OnResponse(tx *engine.Tx, resp *conv.Response) (engine.Decision, error) {
	if resp == nil {
		return engine.Allowed, nil
	}
	canary := canaryOf(tx)
	v := vaultOf(tx)
	lk, _ := tx.State(stateLeak).(*leakIndex)
	var findings []engine.Finding
	var blocked *hit
	if d, ok := l.refuseUnknown(resp.Unknown); ok {
		return d, nil
	}
	for ci := range resp.Choices {
		ch := &resp.Choices[ci]
		for si := range ch.Message.Segments {
			s := &ch.Message.Segments[si]
			out, fs, b := l.wholeText(s.Text, s.Source == conv.SourceLink, s.Signed, ch.Index, canary, lk, v)
			findings = append(findings, fs...)
			if b == nil && s.Signed && out != s.Text {
				b = l.signedHit(fs)
			}
			if b != nil && blocked == nil {
				blocked = b
			}
			if out != s.Text {
				s.Text = out
			}
		}
		fs, bad := l.checkToolCalls(tx, ch.Index, ch.Message.ToolCalls)
		findings = append(findings, fs...)
		if bad && blocked == nil {
			blocked = &hit{rule: "tools.policy"}
		}
	}
	code, reason := "sensitive_output", "the answer contains data that policy does not allow to return"
	if blocked != nil && blocked.rule == "tools.policy" {
		code, reason = "tool_call_denied", "the model called a tool that policy does not allow"
	}
	return decide(findings, blocked, code, reason), nil
}

// wholeText checks one whole text of an answer (a segment, or a stream
// delta that arrives whole: conv.ChannelFile, conv.ChannelLink) and
// returns it rewritten per policy, its findings, and the hit that blocks
// the answer. link marks an address the client fetches (conv.SourceLink):
// off the link allowlist it follows the image policy. signed marks text a
// signature covers (conv.Segment.Signed): pseudonyms are not restored and
// HTML is not escaped there (only policy hits rewrite it; see signedHit).
func (l *Layer) wholeText(text string, link, signed bool, choice int, canary string, lk *leakIndex, v *redact.Vault) (string, []engine.Finding, *hit) {
	hs := l.detect(text, true, canary)
	if link {
		if h, ok := l.fileLink(text); ok {
			hs = append(hs, h)
		}
	}
	out, fs, blocked := l.rewrite(text, hs, choice)
	if lk != nil {
		if f, ok := lk.check(text, choice); ok {
			fs = append(fs, f)
			switch l.cfg.Leak.Action {
			case ActBlock:
				if blocked == nil {
					blocked = &hit{rule: "leak.system_prompt"}
				}
			case ActRedact:
				out = "[answer withheld: it repeats the system prompt]"
			}
		}
	}
	if v != nil && !signed {
		out = v.Restore(out)
	}
	if l.cfg.Links.EscapeHTML && !link && !signed {
		out = escapeHTML(out)
	}
	return out, fs, blocked
}

// signedHit is the hit that blocks an answer when policy would rewrite
// signed text (signed_text: block), nil with signed_text: redact.
func (l *Layer) signedHit(fs []engine.Finding) *hit {
	if l.cfg.SignedText != ActBlock {
		return nil
	}
	rule := "signed_text"
	if len(fs) > 0 {
		rule = "signed_text." + fs[0].Rule
	}
	return &hit{rule: rule}
}

// googleFiles is the host of Google's Files API, whose addresses a Gemini
// answer may hold (fileData): fetching them needs the caller's own key.
const googleFiles = "generativelanguage.googleapis.com"

// fileLink is the hit for an address the model returned as a file
// (Gemini fileData.fileUri) whose host is neither Google's Files API nor
// on the link allowlist: like an image, the client fetches it, so it
// follows the image policy (remove: the address is emptied; flag; off).
func (l *Layer) fileLink(uri string) (hit, bool) {
	if l.cfg.Links.Images == "off" || hostAllowed(l.cfg.Links.AllowedHosts, uri) {
		return hit{}, false
	}
	if u, err := url.Parse(strings.TrimSpace(uri)); err == nil && u.Scheme == "https" && strings.EqualFold(u.Hostname(), googleFiles) {
		return hit{}, false
	}
	a := ActRedact
	if l.cfg.Links.Images == "flag" {
		a = ActFlag
	}
	return hit{Span: redact.Span{Entity: "EXFIL_FILE", Start: 0, End: len(uri), Score: 1}, action: a, rule: "links.file", kind: "image"}, true
}

// refuseUnknown blocks an answer holding a part of a type the adapter does
// not know, unless allow_unknown_parts names it.
func (l *Layer) refuseUnknown(unknown []conv.UnknownPart) (engine.Decision, bool) {
	for _, u := range unknown {
		if slices.Contains(l.cfg.AllowUnknownParts, u.Type) || slices.Contains(l.cfg.AllowUnknownParts, "*") {
			continue
		}
		return engine.Decision{Action: engine.Block, Rule: Name + ".unknown_part", Status: 502, Code: "unknown_answer_part",
			Reason: fmt.Sprintf("The answer holds a part of type %q (at %s) that this gateway does not inspect; "+
				"an operator may allow it with layers.outputguard.allow_unknown_parts.", u.Type, u.Path),
			Findings: []engine.Finding{{Layer: Name, Rule: Name + ".unknown_part", Severity: engine.SeverityMedium,
				Message: -1, Entity: u.Type, Text: "unknown answer part " + u.Path}}}, true
	}
	return engine.Decision{}, false
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeHTML(s string) string {
	if !strings.ContainsAny(s, "<>&") {
		return s
	}
	return htmlEscaper.Replace(s)
}
