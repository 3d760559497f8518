package detect

import (
	"math"

	"github.com/rampart-ai/rampart/detect/charlm"
	"github.com/rampart-ai/rampart/detect/model"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/detect/rules"
)

// Signals fed to the model's stacker, in this order. The stacker (trained
// on out-of-fold scores, see train.go) turns them into one probability.
const (
	sigWhole    = iota // model log-odds of the whole text (plus decoded variants)
	sigWindow          // best model log-odds over sentence windows and decoded variants
	sigCritical        // a critical rule hit
	sigHigh            // a high rule hit
	sigMedium          // a medium or low rule hit
	sigSpecial         // chat-template special tokens present
	// Role interactions: documents and tool results get their own intercept,
	// window weight and rule weight, so one calibration does not have to fit
	// short user prompts and long carriers at once.
	sigUntrusted       // 1 for untrusted text
	sigUntrustedWindow // sigWindow for untrusted text, else 0
	sigUntrustedRule   // any attack rule hit in untrusted text
	sigMLP             // the MLP's log-odds of the normalised text (0 without an MLP)
	// Length: a short text (fewer than shortBuckets distinct buckets, about
	// four words) gets its own intercept and model weight. A stacker fitted
	// on scores of collections the fold's model never saw trusts model
	// evidence less than rules; on a short text the few features the model
	// has are all the evidence there is (TrainConfig.ShortSignals).
	sigShort       // 1 for a short text
	sigShortWindow // sigWindow for a short text, else 0
	nSignals
)

// shortBuckets is the number of distinct buckets of the normalised text
// (about four words) below which a text is short: the model has little
// evidence there, and a high-severity rule hit flags it by itself (see
// Detector.Scan).
const shortBuckets = 64

// logitClip bounds model log-odds before they enter the stacker.
const logitClip = 12

var normOpts = normalize.Options{KeepNewlines: true}

// variant is a decoded form of part of the text.
type variant struct {
	name       string // decoding, e.g. "base64"
	text       string // normalised decoded text
	start, end int    // code points of the original text it was decoded from
}

// ruleHit is a rule hit in the normalised text (variant -1) or in a variant.
type ruleHit struct {
	hit     rules.Hit
	variant int
}

// state is per-call working memory, pooled by the Detector.
type state struct {
	nt       normalize.Text
	vt       normalize.Text
	tr       model.Trace
	sc       rules.Scratch
	hits     []rules.Hit
	rhits    []ruleHit
	wins     [][2]int
	segs     [][2]int
	bounds   []int // segment boundaries for model.Trace
	variants []variant
	special  [][2]int
	mlp      model.MLPScratch
	mlpIdx   []uint32
	// prep is the text prepared by the last analyze, uhits the hits of
	// its rules that apply to user text (analyze with again set)
	prep  prepared
	uhits []ruleHit
	// the salad checks of the last text scanned (scanAs)
	tokSalad, wordSalad, pplSalad span
	ppl                           charlm.Scratch
}

// span is where a check found something in a text (ok).
type span struct {
	a, b int
	ok   bool
}

// salads runs the token-salad, then (when that finds nothing) the
// word-salad and then the perplexity check on text.
func (st *state) salads(text string) {
	st.tokSalad, st.wordSalad, st.pplSalad = span{}, span{}, span{}
	if a, b, ok := saladScan(text); ok {
		st.tokSalad = span{a, b, true}
	} else if a, b, ok := wordSaladScan(text); ok {
		st.wordSalad = span{a, b, true}
	} else if a, b, _, ok := pplSuffixScan(text, &st.ppl); ok {
		st.pplSalad = span{a, b, true}
	}
}

// prepared is everything about a text that does not depend on the model.
type prepared struct {
	norm      string
	variants  []variant
	windows   [][2]int // byte ranges of norm
	hits      []ruleHit
	special   [][2]int // code-point spans of special tokens in the original
	truncated bool
}

// prepare normalises, decodes, splits into windows and runs the rules.
func prepare(st *state, rs *rules.Set, text string, untrusted bool, maxBytes int, decode bool) prepared {
	var p prepared
	if len(text) > maxBytes {
		c := maxBytes
		for c > 0 && text[c]&0xC0 == 0x80 {
			c--
		}
		text, p.truncated = text[:c], true
	}
	normalize.NormalizeInto(&st.nt, text, normOpts)
	p.norm = st.nt.Norm
	st.special = st.special[:0]
	for _, h := range st.nt.Hidden {
		if h.Kind == normalize.KindSpecialToken {
			st.special = append(st.special, [2]int{h.Start, h.End})
		}
	}
	p.special = st.special
	st.variants = st.variants[:0]
	if decode {
		st.variants = decodeVariants(st, text, st.variants)
	}
	p.variants = st.variants
	st.wins, st.segs = windows(p.norm, st.wins[:0], st.segs[:0])
	p.windows = st.wins
	st.rhits = st.rhits[:0]
	st.hits = rs.Match(p.norm, untrusted, &st.sc, st.hits[:0])
	for _, h := range st.hits {
		st.rhits = append(st.rhits, ruleHit{hit: h, variant: -1})
	}
	for vi := range p.variants {
		st.hits = rs.Match(p.variants[vi].text, untrusted, &st.sc, st.hits[:0])
		for _, h := range st.hits {
			st.rhits = append(st.rhits, ruleHit{hit: h, variant: vi})
		}
	}
	p.hits = st.rhits
	return p
}

// userHits returns the hits of hits (rules matched with untrusted set)
// whose rules apply to user text: what rules.Set.Match gives with
// untrusted false, in the same order, since a rule's hit depends on its own
// keywords and stems only (rules.TestUserHitsFilter).
func userHits(st *state, hits []ruleHit) []ruleHit {
	st.uhits = st.uhits[:0]
	for _, h := range hits {
		if !h.hit.Rule.Untrusted() {
			st.uhits = append(st.uhits, h)
		}
	}
	return st.uhits
}

// allowed reports whether an allowlist rule matched and no attack rule or
// special token did: the classifier alone must not flag such a text.
func (p *prepared) allowed() bool {
	allow := false
	for _, h := range p.hits {
		if !h.hit.Rule.IsAllow() {
			return false
		}
		allow = true
	}
	return allow && len(p.special) == 0
}

// allowCap is where an allowlist match caps the model's log-odds: clearly
// benign, so that word statistics alone cannot flag the text.
const allowCap = -logitClip / 2

// capModel applies allowed to the model signals.
func capModel(sig *[nSignals]float64, allowed bool) {
	if allowed {
		sig[sigWhole] = math.Min(sig[sigWhole], allowCap)
		sig[sigWindow] = math.Min(sig[sigWindow], allowCap)
		sig[sigMLP] = math.Min(sig[sigMLP], allowCap)
	}
}

// oneWord reports whether the model must not judge a text by itself: a
// normalised text of at most one word and no decoded variant (a base64
// blob is one word, but its decoding is scanned). One word is not an
// instruction, and with a handful of features the model's log-odds are
// extreme by chance ("text" alone scored 0.92); rules still apply. The
// MCP gateway scans every string of a tool result, most of them one word.
func oneWord(norm string, variants int) bool {
	return variants == 0 && model.FewerWords(norm, 2)
}

// roleSignals sets the role interaction signals (after capModel).
func roleSignals(sig *[nSignals]float64, untrusted bool) {
	if !untrusted {
		return
	}
	sig[sigUntrusted] = 1
	sig[sigUntrustedWindow] = sig[sigWindow]
	sig[sigUntrustedRule] = math.Max(sig[sigCritical], math.Max(sig[sigHigh], sig[sigMedium]))
}

// shortSignals sets the length signals (after capModel).
func shortSignals(sig *[nSignals]float64, short bool) {
	if !short {
		return
	}
	sig[sigShort] = 1
	sig[sigShortWindow] = sig[sigWindow]
}

// ruleSignals sets the rule and special-token signals.
func (p *prepared) ruleSignals(sig *[nSignals]float64) {
	for _, h := range p.hits {
		switch h.hit.Rule.Severity {
		case rules.Allow:
		case rules.Critical:
			sig[sigCritical] = 1
		case rules.High:
			sig[sigHigh] = 1
		default:
			sig[sigMedium] = 1
		}
	}
	if len(p.special) > 0 {
		sig[sigSpecial] = 1
	}
}

func clip(z float64) float64 { return math.Max(-logitClip, math.Min(logitClip, z)) }

// analysis is a prepared text scored by the model.
type analysis struct {
	prepared
	signals       [nSignals]float64
	specialTokens int
	// short: the normalised text has fewer than shortBuckets distinct buckets
	short bool
	// best window: byte range of norm, or a variant (bestVariant >= 0)
	bestWin     [2]int
	bestVariant int
	bestLogit   float64
	spanOf      func(a, b int) (int, int)
}

// analyze prepares text and scores it with the model. With again set it
// scores the text the last call prepared (the same text, maxBytes and
// decode; that call read it as untrusted) as user text (untrusted false):
// normalisation, decoded variants and windows do not depend on the role,
// and the rule hits for user text are those of the untrusted reading whose
// rules apply to user text (userHits).
func analyze(st *state, m *model.Model, rs *rules.Set, text string, untrusted bool, maxBytes int, decode bool, again bool) *analysis {
	a := &analysis{bestVariant: -1}
	if again {
		a.prepared = st.prep
		a.hits = userHits(st, st.prep.hits)
	} else {
		a.prepared = prepare(st, rs, text, untrusted, maxBytes, decode)
		if decode && len(a.variants) < maxVariants {
			addSpacedVariant(st, rs, text, untrusted, &a.prepared)
		}
		st.prep = a.prepared
	}
	a.specialTokens = len(a.special)
	dom := uint32(0)
	if untrusted {
		dom = model.DomainUntrusted
	}
	// The windows are the segments and neighbouring pairs (see windows),
	// scored in the same pass as the whole text; a window without features
	// (a trailing space) is not scored, as in training.
	st.bounds = st.bounds[:0]
	if len(a.windows) > 0 {
		st.bounds = append(st.bounds, st.segs[0][0])
		for _, g := range st.segs {
			st.bounds = append(st.bounds, g[1])
		}
	}
	m.Trace(a.norm, dom, st.bounds, &st.tr)
	// Every span is scored as a binary feature vector (each bucket once,
	// see model.Trace): repeating a word or a sentence raises no score.
	sum, n := st.tr.All()
	if m.MLP != nil {
		// the MLP scores the normalised text, from the word hashes the
		// trace collected
		st.mlpIdx = model.MLPFromHashes(st.tr.MLPHashes(), m.MLP.Bits, dom, &st.mlp, st.mlpIdx[:0])
		a.signals[sigMLP] = clip(m.MLP.Logit(st.mlpIdx, &st.mlp))
	}
	a.short = n < shortBuckets
	a.bestWin = [2]int{0, len(a.norm)}
	a.bestLogit = m.Logit(sum, n)
	for _, w := range st.tr.Windows() {
		if z := m.Logit(w.Sum, w.N); w.N > 0 && z > a.bestLogit {
			a.bestLogit, a.bestWin = z, [2]int{w.A, w.B}
		}
	}
	// The whole-text signal pools the text and its decoded variants, each
	// counted as its own block of distinct buckets (as training does).
	for vi := range a.variants {
		m.Trace(a.variants[vi].text, dom, nil, &st.tr)
		s, k := st.tr.All()
		sum, n = sum+s, n+k
		if z := m.Logit(s, k); z > a.bestLogit {
			a.bestLogit, a.bestVariant = z, vi
		}
	}

	a.signals[sigWhole] = clip(m.Logit(sum, n))
	a.signals[sigWindow] = clip(a.bestLogit)
	a.ruleSignals(&a.signals)
	capModel(&a.signals, a.allowed() || oneWord(a.norm, len(a.variants)))
	roleSignals(&a.signals, untrusted)
	shortSignals(&a.signals, a.short)
	a.spanOf = st.nt.OrigSpan
	return a
}

// findings explains a score: rule hits, the classifier's best window and
// special tokens, with spans in code points of the original text.
func (a *analysis) findings(st *state, score float64) []Finding {
	var out []Finding
	for _, h := range a.hits {
		if h.hit.Rule.IsAllow() {
			continue
		}
		f := Finding{Rule: h.hit.Rule.ID, Severity: h.hit.Rule.Severity, Score: score, Message: h.hit.Rule.Description}
		if h.variant >= 0 {
			v := a.variants[h.variant]
			f.Start, f.End, f.Decoding = v.start, v.end, v.name
			f.Message += " (in " + v.name + "-decoded text)"
		} else {
			f.Start, f.End = a.spanOf(h.hit.Start, h.hit.End)
		}
		out = append(out, f)
	}
	if a.signals[sigWindow] > 0 {
		f := Finding{Rule: RuleModel, Severity: severityOf(score), Score: score,
			Message: "text reads like an injected instruction (classifier)"}
		if a.bestVariant >= 0 {
			v := a.variants[a.bestVariant]
			f.Start, f.End, f.Decoding = v.start, v.end, v.name
			f.Message += " (in " + v.name + "-decoded text)"
		} else {
			f.Start, f.End = a.spanOf(a.bestWin[0], a.bestWin[1])
		}
		out = append(out, f)
	}
	for _, sp := range a.special {
		out = append(out, Finding{Rule: RuleSpecialToken, Severity: rules.Critical, Score: score,
			Start: sp[0], End: sp[1], Message: "chat-template control token in text"})
	}
	return out
}

func severityOf(score float64) string {
	switch {
	case score >= 0.9:
		return rules.High
	case score >= 0.5:
		return rules.Medium
	}
	return rules.Low
}

// windows splits norm into sentence segments (at '.', '!', '?', ';' before
// a space, and at line breaks), merges segments shorter than minSeg bytes
// into the next, splits ones longer than maxSeg at a space, and returns
// every segment and every pair of neighbouring segments as a window. A
// text of one segment has no windows (the whole text is its window).
func windows(norm string, out, segs [][2]int) ([][2]int, [][2]int) {
	const minSeg, maxSeg = 40, 400
	st := 0
	emit := func(a, b int) {
		for b-a > maxSeg {
			c := a + maxSeg
			for c > a+maxSeg/2 && norm[c] != ' ' {
				c--
			}
			segs = appendSeg(segs, a, c, minSeg)
			a = c
		}
		if b > a {
			segs = appendSeg(segs, a, b, minSeg)
		}
	}
	for i := 0; i < len(norm); i++ {
		for i < len(norm) && sentenceEnd[norm[i]] == 0 {
			i++
		}
		if i == len(norm) {
			break
		}
		// '.', '!', '?' and ';' end a sentence only before a space
		if sentenceEnd[norm[i]] == 2 && i+1 < len(norm) && norm[i+1] != ' ' && norm[i+1] != '\n' {
			continue
		}
		emit(st, i+1)
		st = i + 1
	}
	emit(st, len(norm))
	if len(segs) <= 1 {
		return out, segs
	}
	for i, g := range segs {
		out = append(out, g)
		if i+1 < len(segs) {
			out = append(out, [2]int{g[0], segs[i+1][1]})
		}
	}
	return out, segs
}

// sentenceEnd marks the bytes that end a segment: 1 for a line break, 2 for
// punctuation that ends one when followed by a space or a line break.
var sentenceEnd = [256]uint8{'\n': 1, '.': 2, '!': 2, '?': 2, ';': 2}

func appendSeg(segs [][2]int, a, b, minSeg int) [][2]int {
	if n := len(segs); n > 0 && segs[n-1][1]-segs[n-1][0] < minSeg {
		segs[n-1][1] = b
		return segs
	}
	return append(segs, [2]int{a, b})
}

// addSpacedVariant adds the text with its spaced-out letter runs folded
// ("I g n o r e  a l l" read as "Ignore all") as a variant, with its rule
// hits. It runs at scan time only, after prepare: the model was trained
// without it (the training pipeline, and so its fingerprint, is
// unchanged), and it changes nothing for a text without such runs.
func addSpacedVariant(st *state, rs *rules.Set, text string, untrusted bool, p *prepared) {
	if len(text) > maxWholeText {
		return
	}
	folded, ok := foldSpacedLetters(text)
	if !ok {
		return
	}
	normalize.NormalizeInto(&st.vt, folded, normOpts)
	st.variants = append(st.variants, variant{name: "spaced-letters", text: st.vt.Norm, start: 0, end: st.nt.OrigLen()})
	p.variants = st.variants
	vi := len(p.variants) - 1
	st.hits = rs.Match(p.variants[vi].text, untrusted, &st.sc, st.hits[:0])
	for _, h := range st.hits {
		st.rhits = append(st.rhits, ruleHit{hit: h, variant: vi})
	}
	p.hits = st.rhits
}
