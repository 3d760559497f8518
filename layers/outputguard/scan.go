package outputguard

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/pii"
	"github.com/rampart-ai/rampart/detect/redact"
	"github.com/rampart-ai/rampart/engine"
)

// hit is one thing found in a text, with what to do about it.
type hit struct {
	redact.Span
	action Action
	rule   string
	kind   string // "pii", "secret", "image", "link", "canary", "hidden"
	repl   string // replacement text for links and images
	open   bool   // secret may continue past the end of the text
}

// Markdown images and links. The URL is group 1; titles are allowed.
var (
	reImage = regexp.MustCompile(`!\[[^\]\n]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"\n]*")?\s*\)`)
	reLink  = regexp.MustCompile(`\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"\n]*")?\s*\)`)
	// A reference definition "[label]: url" (what "![alt][label]" and
	// "[text][label]" point to). Markdown renderers load an image through
	// it just as through an inline "![alt](url)".
	reRefDef = regexp.MustCompile(`(?m)^ {0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]+)>?[^\n]*`)
)

// detect finds everything the output policy cares about in text.
func (l *Layer) detect(text string, output bool, canary string) []hit {
	return l.detectMemo(text, output, canary, nil)
}

// detectMemo is detect keeping phone-number verdicts in m (a stream's
// channel re-scans its last bytes with every event; see pii.Memo).
func (l *Layer) detectMemo(text string, output bool, canary string, m *pii.Memo) []hit {
	hs := l.detectDataMemo(text, output, canary, m)
	if !output {
		return hs
	}
	var lh []hit
	if strings.Contains(text, "](") || strings.Contains(text, "]:") {
		lh = l.links(text)
	}
	if l.cfg.Links.Images != "off" {
		lh = append(lh, l.mdImages(text, lh)...)
		lh = append(lh, l.htmlImages(text)...)
	}
	lh = append(lh, l.dataLinks(text, lh)...)
	return append(hs, lh...)
}

// detectData finds secrets, personal data and (in answers) the canary.
func (l *Layer) detectData(text string, output bool, canary string) []hit {
	return l.detectDataMemo(text, output, canary, nil)
}

func (l *Layer) detectDataMemo(text string, output bool, canary string, memo *pii.Memo) []hit {
	var hs []hit
	for _, m := range l.pii.ScanMemo(text, memo) {
		a := l.action(m.Entity, false, output)
		if a == ActOff {
			continue
		}
		hs = append(hs, hit{Span: redact.Span{Entity: m.Entity, Start: m.Start, End: m.End, Score: m.Score}, action: a, rule: "pii." + strings.ToLower(m.Entity), kind: "pii"})
	}
	for _, m := range l.secrets.Scan(text) {
		a := l.action(m.Entity, true, output)
		if a == ActOff {
			continue
		}
		hs = append(hs, hit{Span: redact.Span{Entity: m.Entity, Start: m.Start, End: m.End, Score: 1}, action: a, rule: "secret." + m.Rule, kind: "secret", open: m.Open})
	}
	if output || len(l.cfg.Input) > 0 {
		hs = append(hs, l.reformattedSecrets(text, hs, output)...)
	}
	if !output {
		return hs
	}
	if a := l.cfg.outputAction(HiddenEntity, false); a != ActOff {
		for _, sp := range hiddenRuns(text) {
			hs = append(hs, hit{Span: redact.Span{Entity: HiddenEntity, Start: sp[0], End: sp[1], Score: 1}, action: a, rule: "hidden.text", kind: "hidden"})
		}
	}
	if canary != "" && l.cfg.Canary != ActOff {
		for _, sp := range canarySpans(text, canary) {
			hs = append(hs, hit{Span: redact.Span{Entity: "CANARY", Start: sp[0], End: sp[1], Score: 1}, action: l.cfg.Canary, rule: "canary", kind: "canary"})
		}
	}
	return hs
}

// hiddenRuns finds runs of invisible characters that carry text in an
// answer: Unicode tag characters (U+E0000–E007F, which spell ASCII no
// reader sees: "ASCII smuggling" of data or of instructions for the next
// model) and the variation selectors supplement (U+E0100–E01EF, bytes
// smuggled after an emoji), any length; and runs of at least minInvisible
// zero-width characters or variation selectors (U+200B–200D, U+2060–2064,
// U+FEFF, U+FE00–FE0F: text spelled in binary), which ordinary text never
// strings together (an emoji has one selector, a joined emoji one joiner
// between pictures). A subdivision flag's tag sequence (U+1F3F4, then up
// to 7 tag letters or digits, then CANCEL TAG) is an emoji, not hidden
// text.
func hiddenRuns(text string) [][2]int {
	var out [][2]int
	for i := 0; i < len(text); i++ {
		if b := text[i]; b != 0xE2 && b != 0xEF && b != 0xF3 {
			continue
		}
		j, n, tagged := i, 0, false
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			switch k := invisibleCarrier(r); {
			case k == 0:
				goto end
			case k == 2:
				tagged = true
			}
			j, n = j+size, n+1
		}
	end:
		if n == 0 {
			continue
		}
		for j < len(text) && !utf8.RuneStart(text[j]) {
			j++ // stray bytes after the run go with it (spans end at a character)
		}
		if tagged && !isFlagTags(text, i, j) || !tagged && n >= minInvisible {
			out = append(out, [2]int{i, j})
		}
		i = j - 1
	}
	return out
}

// minInvisible is the shortest run of zero-width characters or variation
// selectors that is hidden text.
const minInvisible = 4

// invisibleCarrier is 2 for a tag character or a supplementary variation
// selector, 1 for a zero-width character or a variation selector, else 0.
func invisibleCarrier(r rune) int {
	switch {
	case r >= 0xE0000 && r <= 0xE007F, r >= 0xE0100 && r <= 0xE01EF:
		return 2
	case r >= 0x200B && r <= 0x200D, r >= 0x2060 && r <= 0x2064, r == 0xFEFF, r >= 0xFE00 && r <= 0xFE0F:
		return 1
	}
	return 0
}

// isFlagTags reports whether text[i:j] (tag characters) is the tag
// sequence of a subdivision flag emoji: after U+1F3F4, the tag spelling
// of one of the three recommended subdivision flags (England, Scotland,
// Wales), ending in CANCEL TAG (U+E007F). Other tag spellings show as a
// black flag with nothing after it, so any other letters would be text
// no reader sees ("flags" spelling "sendto", "evilcom", …).
func isFlagTags(text string, i, j int) bool {
	if !strings.HasSuffix(text[:i], "\U0001F3F4") {
		return false
	}
	for _, f := range flagTags {
		if text[i:j] == f {
			return true
		}
	}
	return false
}

// flagTags are the tag sequences of the recommended (RGI) subdivision
// flags of Unicode's emoji data: gbeng, gbsct, gbwls, each then CANCEL
// TAG.
var flagTags = func() []string {
	var out []string
	for _, s := range []string{"gbeng", "gbsct", "gbwls"} {
		var b strings.Builder
		for _, c := range s {
			b.WriteRune(0xE0000 + c)
		}
		b.WriteRune(0xE007F)
		out = append(out, b.String())
	}
	return out
}()

// canaryPayload is the random part of a canary token (after its last
// '-': 16 hex digits for "rk-canary-…"), when it is long enough (12+
// characters) to be matched alone.
func canaryPayload(canary string) string {
	p := canary[strings.LastIndexByte(canary, '-')+1:]
	if len(p) < 12 {
		return ""
	}
	return p
}

// canarySpans finds the canary in text: the token itself, or its random
// part alone, in any letter case and with up to 2 separator bytes (space,
// '-', '.', '_', ':', '/') between its characters. A model that translates
// or paraphrases its system prompt keeps the token's letters more often
// than its words ("Kanarien-Marker 7F3A-9B2C-1D5E…"): the prefix may be
// translated away, the payload is 64 random bits.
func canarySpans(text, canary string) [][2]int {
	var out [][2]int
	p := canaryPayload(canary)
	if p == "" {
		for off := 0; ; {
			k := strings.Index(text[off:], canary)
			if k < 0 {
				return out
			}
			out = append(out, [2]int{off + k, off + k + len(canary)})
			off += k + len(canary)
		}
	}
	for i := 0; i+len(p) <= len(text); i++ {
		if text[i]|0x20 != p[0]|0x20 {
			continue
		}
		j, k := i+1, 1
		for k < len(p) && j < len(text) {
			if text[j]|0x20 == p[k]|0x20 {
				j, k = j+1, k+1
				continue
			}
			n := 0
			for j < len(text) && n < 2 && strings.IndexByte(" -._:/", text[j]) >= 0 {
				j, n = j+1, n+1
			}
			if n == 0 || j == len(text) || text[j]|0x20 != p[k]|0x20 {
				break
			}
		}
		if k < len(p) {
			continue
		}
		st := i
		if pre := canary[:len(canary)-len(p)]; strings.HasSuffix(strings.ToLower(text[:i]), strings.ToLower(pre)) {
			st = i - len(pre) // the whole token
		}
		out = append(out, [2]int{st, j})
		i = j - 1
	}
	return out
}

func (l *Layer) action(entity string, secret, output bool) Action {
	if output {
		return l.cfg.outputAction(entity, secret)
	}
	return l.cfg.inputAction(entity, secret)
}

// links finds Markdown images and links to hosts that are not allowed.
func (l *Layer) links(text string) []hit {
	var hs []hit
	imgs := reImage.FindAllStringSubmatchIndex(text, -1)
	if l.cfg.Links.Images != "off" {
		for _, m := range imgs {
			if hostAllowed(l.cfg.Links.AllowedHosts, text[m[2]:m[3]]) {
				continue
			}
			a := ActRedact
			if l.cfg.Links.Images == "flag" {
				a = ActFlag
			}
			hs = append(hs, hit{Span: redact.Span{Entity: "EXFIL_IMAGE", Start: m[0], End: m[1], Score: 1}, action: a, rule: "links.image", kind: "image", repl: "[image removed]"})
		}
		// Reference definitions follow the image policy whether an image or
		// a link uses them: in a stream the use may already have gone out
		// when the definition arrives, so it cannot be told apart safely.
		for _, m := range reRefDef.FindAllStringSubmatchIndex(text, -1) {
			if hostAllowed(l.cfg.Links.AllowedHosts, text[m[2]:m[3]]) {
				continue
			}
			a := ActRedact
			if l.cfg.Links.Images == "flag" {
				a = ActFlag
			}
			hs = append(hs, hit{Span: redact.Span{Entity: "EXFIL_IMAGE", Start: m[0], End: m[1], Score: 1}, action: a, rule: "links.reference", kind: "image", repl: "[reference removed]"})
		}
	}
	if l.cfg.Links.Links != "off" {
		for _, m := range reLink.FindAllStringSubmatchIndex(text, -1) {
			if m[0] > 0 && text[m[0]-1] == '!' {
				continue // an image, handled above
			}
			if hostAllowed(l.cfg.Links.AllowedHosts, text[m[4]:m[5]]) {
				continue
			}
			a := ActRedact
			if l.cfg.Links.Links == "flag" {
				a = ActFlag
			}
			hs = append(hs, hit{Span: redact.Span{Entity: "EXFIL_LINK", Start: m[0], End: m[1], Score: 0.9}, action: a, rule: "links.link", kind: "link", repl: text[m[2]:m[3]]})
		}
	}
	return hs
}

// replacement is what a redacted hit becomes.
func (l *Layer) replacement(h hit, value string) string {
	switch h.kind {
	case "image", "link":
		return h.repl
	case "canary":
		return "[redacted]"
	case "hidden":
		return "" // invisible: removed without a trace in the text
	}
	return l.redactOp(h.Entity, value)
}

// rewrite applies hits to text: the first block hit wins; redact hits are
// replaced (overlaps resolved by redact.Resolve); flag hits only yield
// findings. Finding offsets are code points into text.
func (l *Layer) rewrite(text string, hs []hit, msg int) (string, []engine.Finding, *hit) {
	if len(hs) == 0 {
		return text, nil, nil
	}
	var spans []redact.Span
	byKey := map[[2]int]hit{}
	var findings []engine.Finding
	var blocked *hit
	for i := range hs {
		h := hs[i]
		if h.action == ActBlock && blocked == nil {
			blocked = &hs[i]
		}
		if h.action == ActRedact || h.action == ActPseudonymize {
			spans = append(spans, h.Span)
			byKey[[2]int{h.Start, h.End}] = h
		}
	}
	kept := redact.Resolve(text, spans)
	keptSet := map[[2]int]bool{}
	for _, s := range kept {
		keptSet[[2]int{s.Start, s.End}] = true
	}
	dup := map[[2]int]string{}
	for _, h := range hs {
		if e, ok := dup[[2]int{h.Start, h.End}]; ok && e == h.Entity {
			continue // the same span found by two rules
		}
		dup[[2]int{h.Start, h.End}] = h.Entity
		if h.action == ActRedact && !keptSet[[2]int{h.Start, h.End}] && !covered(kept, h.Span) {
			continue
		}
		findings = append(findings, l.finding(text, h, msg))
	}
	out := redact.Apply(text, kept, func(s redact.Span, v string) string {
		return l.replacement(byKey[[2]int{s.Start, s.End}], v)
	})
	return out, findings, blocked
}

func covered(kept []redact.Span, s redact.Span) bool {
	for _, k := range kept {
		if k.Start <= s.Start && k.End >= s.End {
			return true
		}
	}
	return false
}

func (l *Layer) finding(text string, h hit, msg int) engine.Finding {
	cp := pii.CodePointOffsets(text, h.Start, h.End)
	sev := engine.SeverityMedium
	switch h.kind {
	case "secret", "canary", "hidden":
		sev = engine.SeverityHigh
	case "pii":
		if h.Entity == pii.CreditCard || h.Entity == pii.USSSN || h.Entity == pii.IBAN {
			sev = engine.SeverityHigh
		}
	}
	return engine.Finding{Layer: Name, Rule: h.rule, Severity: sev, Score: h.Score, Message: msg,
		Start: cp[0], End: cp[1], Entity: h.Entity, Text: string(h.action) + " " + h.kind}
}
