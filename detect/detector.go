package detect

import (
	"fmt"
	"math"
	"sync"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/model"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/detect/rules"
)

// Role is where a text comes from. User, system and assistant text is
// scanned with the user threshold; documents and tool results are untrusted
// data and use the untrusted threshold and the rules scoped to data.
type Role string

// Roles.
const (
	RoleUser      Role = "user"
	RoleSystem    Role = "system"
	RoleAssistant Role = "assistant"
	RoleDocument  Role = "document"
	RoleTool      Role = "tool"
)

// Untrusted reports whether text of this role is data rather than a turn of
// the conversation.
func (r Role) Untrusted() bool { return r == RoleDocument || r == RoleTool }

// ParseRole accepts the role names above ("" means user).
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case "":
		return RoleUser, nil
	case RoleUser, RoleSystem, RoleAssistant, RoleDocument, RoleTool:
		return r, nil
	}
	return "", fmt.Errorf("detect: unknown role %q (want user, system, assistant, document or tool)", s)
}

// Rule ids of findings that do not come from the rules file.
const (
	RuleModel        = "injection-classifier"
	RuleSpecialToken = "special-token"
	RuleHiddenText   = "hidden-text"
)

// Finding is one piece of evidence. Start and End are code-point offsets
// into the original text (End exclusive). Findings never carry the text.
type Finding struct {
	Rule     string
	Severity string
	Score    float64
	Start    int
	End      int
	// Decoding names the decoding that revealed the evidence ("base64",
	// "rot13", ...; empty for the plain text).
	Decoding string
	Message  string
}

// Result is the verdict on one text.
type Result struct {
	// Score is the calibrated probability that the text is an attack.
	Score float64
	// Threshold is the score at which this role's text is flagged.
	Threshold float64
	// Flagged is Score >= Threshold, or a rule verdict that stands by
	// itself (see Scan): a critical rule hit, a high rule hit on a short
	// text, a high data rule hit in a document or tool result. The rule is
	// then among the Findings.
	Flagged bool
	// SpecialToken is set when chat-template control tokens were found
	// (a finding by itself, whatever the score).
	SpecialToken bool
	Findings     []Finding
}

// Options tunes a Detector. The zero value uses the model's thresholds
// (chosen at training time on out-of-fold train scores pooled with dev
// scores) and scans with every decoder.
type Options struct {
	// UserThreshold overrides the model's threshold for user, system and
	// assistant text (0: the trained default).
	UserThreshold float64
	// UntrustedThreshold overrides the threshold for documents and tool
	// results (0: the trained default).
	UntrustedThreshold float64
	// MaxScanBytes is the size of the window a text is scanned in (0: 64
	// KiB; at least MinMaxScanBytes); a longer text is scanned in
	// overlapping windows (see Scan).
	MaxScanBytes int
	// NoDecode disables scanning decoded variants (base64, hex, ...).
	NoDecode bool
}

// DefaultMaxScanBytes is the default bound on scanned bytes per text.
const DefaultMaxScanBytes = 64 << 10

// MinMaxScanBytes is the smallest MaxScanBytes New accepts (the injection
// layer's max_scan_bytes has the same floor).
const MinMaxScanBytes = 256

// Detector scores texts. It is safe for concurrent use.
type Detector struct {
	m     *model.Model
	rules *rules.Set
	opt   Options
	pool  sync.Pool
}

// New loads the embedded model and rules.
func New(opt Options) (*Detector, error) {
	m, err := model.Embedded()
	if err != nil {
		return nil, err
	}
	rs, err := rules.Default()
	if err != nil {
		return nil, err
	}
	return NewWith(m, rs, opt)
}

// NewWith builds a detector from a given model and rule set.
func NewWith(m *model.Model, rs *rules.Set, opt Options) (*Detector, error) {
	for _, t := range []float64{opt.UserThreshold, opt.UntrustedThreshold} {
		if t < 0 || t > 1 || math.IsNaN(t) {
			return nil, fmt.Errorf("detect: threshold %v outside [0, 1]", t)
		}
	}
	if opt.MaxScanBytes < 0 || opt.MaxScanBytes > 0 && opt.MaxScanBytes < MinMaxScanBytes {
		// a window shorter than a character never advances (Scan)
		return nil, fmt.Errorf("detect: max scan bytes %d below %d", opt.MaxScanBytes, MinMaxScanBytes)
	}
	if opt.MaxScanBytes == 0 {
		opt.MaxScanBytes = DefaultMaxScanBytes
	}
	if opt.UserThreshold == 0 {
		opt.UserThreshold = float64(m.UserThreshold)
	}
	if opt.UntrustedThreshold == 0 {
		opt.UntrustedThreshold = float64(m.UntrustedThreshold)
	}
	d := &Detector{m: m, rules: rs, opt: opt}
	d.pool.New = func() any { return new(state) }
	return d, nil
}

// Threshold returns the threshold used for role.
func (d *Detector) Threshold(role Role) float64 {
	if role.Untrusted() {
		return d.opt.UntrustedThreshold
	}
	return d.opt.UserThreshold
}

// RuleScanError names the finding of a text the detector failed on.
const RuleScanError = "scan-error"

// Scan scores text as coming from role. It never panics: should a stage
// fail on some input, the text is flagged (fail closed) with a scan-error
// finding, since input that breaks a scanner is itself suspect.
//
// A text longer than MaxScanBytes is scanned whole, in windows of
// MaxScanBytes that overlap by windowOverlap(MaxScanBytes) bytes, so that
// no part of it is left unscanned and no attack shorter than the overlap
// falls between two windows: the result is the strongest window's, with
// the findings of every window (offsets in the whole text).
func (d *Detector) Scan(text string, role Role) Result {
	max := d.opt.MaxScanBytes
	if len(text) <= max {
		return d.scanOne(text, role)
	}
	var out Result
	eachWindow(text, max, func(start, runes int, win string) bool {
		r := d.scanOne(win, role)
		if start == 0 || r.Score > out.Score {
			out.Score, out.Threshold = r.Score, r.Threshold
		}
		out.Flagged = out.Flagged || r.Flagged
		out.SpecialToken = out.SpecialToken || r.SpecialToken
		for _, f := range r.Findings {
			f.Start, f.End = f.Start+runes, f.End+runes
			if !hasFinding(out.Findings, f) {
				out.Findings = append(out.Findings, f)
			}
		}
		return true
	})
	return out
}

// eachWindow calls fn on the windows of at most max bytes that cover text,
// cut at character boundaries and overlapping by windowOverlap(max) bytes,
// with each window's byte offset and the code points before it, until fn
// returns false.
func eachWindow(text string, max int, fn func(start, runes int, win string) bool) {
	overlap := windowOverlap(max)
	runes := 0 // code points of text[:start]
	prev := 0
	for start := 0; ; {
		end := min(start+max, len(text))
		for end < len(text) && !utf8.RuneStart(text[end]) {
			end--
		}
		runes += utf8.RuneCountInString(text[prev:start])
		prev = start
		if !fn(start, runes, text[start:end]) || end == len(text) {
			return
		}
		next := end - overlap
		for next > start && !utf8.RuneStart(text[next]) {
			next--
		}
		if next <= start {
			next = end
		}
		start = next
	}
}

// windowOverlap is how many bytes consecutive scan windows of max bytes
// share: a quarter of the window, at most 4 KiB.
func windowOverlap(max int) int { return min(max/4, 4<<10) }

// hasFinding reports whether fs holds f's rule at f's span (the same
// evidence seen by two overlapping windows).
func hasFinding(fs []Finding, f Finding) bool {
	for _, g := range fs {
		if g.Rule == f.Rule && g.Start == f.Start && g.End == f.End && g.Decoding == f.Decoding {
			return true
		}
	}
	return false
}

// scanOne scans a text of at most MaxScanBytes.
func (d *Detector) scanOne(text string, role Role) (res Result) {
	st := d.pool.Get().(*state)
	defer func() {
		if recover() != nil {
			res = Result{Score: 1, Threshold: d.Threshold(role), Flagged: true, Findings: []Finding{{
				Rule: RuleScanError, Severity: rules.High, Score: 1, Message: "the detector failed on this text"}}}
			return // st is dropped, not pooled: its state is unknown
		}
		d.pool.Put(st)
	}()
	res = d.scanAs(st, text, role, false)
	if role.Untrusted() && !res.Flagged {
		// Untrusted text is never judged more leniently than user text: a
		// text that would be flagged from the user is flagged in a
		// document or tool result too (the document calibration and
		// threshold differ, and the model's untrusted-specific features
		// can pull a score down). The user verdict is then the result.
		// The text is read as prepared for the first verdict (again):
		// only the model scores it again.
		if u := d.scanAs(st, text, RoleUser, true); u.Flagged {
			return u
		}
	}
	return res
}

// scanAs is the verdict of Scan for role, without the untrusted fallback.
// again reads the text as the last call on st prepared it (see analyze);
// the token-salad checks, which do not depend on the role, are not run
// again either.
func (d *Detector) scanAs(st *state, text string, role Role, again bool) Result {
	a := analyze(st, d.m, d.rules, text, role.Untrusted(), d.opt.MaxScanBytes, !d.opt.NoDecode, again)
	score := d.m.Calibrate(a.signals[:])
	res := Result{Score: score, Threshold: d.Threshold(role), SpecialToken: a.specialTokens > 0}
	// A critical rule (an explicit "ignore your previous instructions") is a
	// verdict by itself: the calibrated score weighs it against the model,
	// which on long carriers can dilute it below the untrusted threshold.
	// On a short text (a few words) the model has little evidence and a
	// high-severity rule match is most of the text, with no context that
	// could make it benign: such a hit flags too. In the train and dev
	// splits every short user-role text with a high rule hit is an attack
	// (14 of 14 after the 2026-12-07 re-split; docs/DETECTION.md).
	// In untrusted content, a high-severity rule written for data (text
	// that addresses the AI, tells it to ignore the rest of the data, plants
	// a conditional instruction, shapes "your answer" or sends the
	// conversation to an address) flags by itself too: the model knows the
	// carriers of its training data, and an injection planted in an
	// unfamiliar carrier must not be diluted by it. In the train and dev
	// splits 524 untrusted rows have such a hit, one of them a benign
	// document (docs/DETECTION.md).
	res.Flagged = score >= res.Threshold || a.signals[sigCritical] == 1 ||
		(a.short && a.signals[sigHigh] == 1) ||
		(role.Untrusted() && a.dataRuleHit())
	res.Findings = a.findings(st, score)
	// Hidden text that spells words (tag characters, which render as
	// nothing) is addressed to the model and not to the reader: in
	// documents and tool results that is an attack by itself.
	for _, h := range st.nt.Hidden {
		if h.Kind != normalize.KindTag || !spellsWords(h.Decoded) {
			continue
		}
		res.Findings = append(res.Findings, Finding{Rule: RuleHiddenText, Severity: rules.High, Score: score,
			Start: h.Start, End: h.End, Decoding: "tag-characters",
			Message: "hidden text (tag characters) that the reader does not see spells words"})
		if role.Untrusted() {
			res.Flagged = true
		}
	}
	// an action request planted in data (pay, send the user's files out,
	// grant admin rights, unlock, run a command ...) addressed to the
	// reader flags by itself in documents and tool results (planted.go)
	if role.Untrusted() {
		if pa, pz, _, ok := plantedCheck(a.norm, nil); ok {
			s, e := st.nt.OrigSpan(pa, pz)
			res.Flagged = true
			res.Findings = append(res.Findings, Finding{Rule: RulePlantedAction, Severity: rules.High, Score: score, Start: s, End: e,
				Message: "instruction in data asks the reader to act for someone (pay, send data out, grant access, delete, unlock, buy, run ...)"})
		}
	}
	// token salad (optimised jailbreak suffixes) flags by itself: it is
	// no language and no code, and the model scores words, not their order
	if !again {
		st.salads(scanned(text, d.opt.MaxScanBytes))
	}
	if sa, sb, ok := st.tokSalad.a, st.tokSalad.b, st.tokSalad.ok; ok {
		res.Flagged = true
		res.Findings = append(res.Findings, Finding{Rule: RuleTokenSalad, Severity: rules.High, Score: score,
			Start: utf8.RuneCountInString(text[:sa]), End: utf8.RuneCountInString(text[:sb]),
			Message: "token salad: a run of glued, bracketed and out-of-vocabulary tokens (optimised jailbreak suffix)"})
	} else if sa, sb, ok := st.wordSalad.a, st.wordSalad.b, st.wordSalad.ok; ok {
		res.Flagged = true
		res.Findings = append(res.Findings, Finding{Rule: RuleWordSalad, Severity: rules.High, Score: score,
			Start: utf8.RuneCountInString(text[:sa]), End: utf8.RuneCountInString(text[:sb]),
			Message: "word salad: a run of dictionary words with no function words in pairs benign text does not have, after a sentence (optimised jailbreak suffix)"})
	} else if sa, sb, ok := st.pplSalad.a, st.pplSalad.b, st.pplSalad.ok; ok {
		res.Flagged = true
		res.Findings = append(res.Findings, Finding{Rule: RuleOptimisedSuffix, Severity: rules.High, Score: score,
			Start: utf8.RuneCountInString(text[:sa]), End: utf8.RuneCountInString(text[:sb]),
			Message: "optimised suffix: characters that neither the prose nor the code model of benign text expects, after a sentence (perplexity filter)"})
	}
	if res.Flagged && len(res.Findings) == 0 {
		// flagged on the classifier's whole-text score alone (no window
		// scored above even odds): the finding names the classifier and
		// the whole text, so that a flagged verdict always says why
		res.Findings = append(res.Findings, Finding{Rule: RuleModel, Severity: severityOf(score), Score: score,
			Start: 0, End: utf8.RuneCountInString(text), Message: "text reads like an injected instruction (classifier, whole text)"})
	}
	return res
}

// scanned is the part of text the detector scans (at most maxBytes, cut at
// a character boundary).
func scanned(text string, maxBytes int) string {
	if len(text) <= maxBytes {
		return text
	}
	c := maxBytes
	for c > 0 && text[c]&0xC0 == 0x80 {
		c--
	}
	return text[:c]
}

// dataRuleHit reports a hit of a high-severity rule scoped to untrusted
// content (documents and tool results), other than action-request-in-data.
// That regex rule reads an imperative with an amount and "to" as a planted
// payment ("please remit 640 EUR to IBAN …" of an invoice, "pay at least
// 35 GBP by 14 January to avoid a fee"); it stays a stacker signal, and the
// planted-action check (planted.go), which weighs how a request is
// addressed and what it asks for, is what flags such requests by itself.
func (a *analysis) dataRuleHit() bool {
	for _, h := range a.hits {
		if h.hit.Rule.Untrusted() && h.hit.Rule.Severity == rules.High && h.hit.Rule.ID != ruleActionRequest {
			return true
		}
	}
	return false
}

// spellsWords reports whether decoded hidden text holds at least two words
// of two or more letters, or twelve letters: more than the tag sequence of
// a subdivision flag emoji ("gbeng").
func spellsWords(s string) bool {
	letters, words, run := 0, 0, 0
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			letters++
			run++
			continue
		}
		if run >= 2 {
			words++
		}
		run = 0
	}
	if run >= 2 {
		words++
	}
	return words >= 2 || letters >= 12
}
