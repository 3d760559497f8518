package inputpolicy

import (
	"regexp"
	"strings"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/normtext"
)

// markerRule is one kind of fake role marker. Patterns run on the shared
// normalised view (normtext.Folded: lowercase, line breaks kept).
type markerRule struct {
	rule string
	re   *regexp.Regexp
	// index, when set, finds the leftmost match of re in a text quickly
	// (same result as re.FindStringIndex): it runs re only where the
	// literal text every match needs occurs.
	index func(re *regexp.Regexp, s string) []int
}

// markerSources are the segment sources scanned for fake role markers.
var markerSources = map[conv.Source]bool{conv.SourceUser: true, conv.SourceDocument: true, conv.SourceTool: true}

type markerSet struct {
	rules []markerRule
}

func newMarkerSet() *markerSet {
	ms := &markerSet{rules: []markerRule{
		// "### System:", "## system prompt", "# Developer instructions:"
		{Name + ".role_marker.heading", regexp.MustCompile(
			`(?m)^[ \t]*#{1,6}[ \t]*(system|developer|assistant)([ \t]+(prompt|message|instructions?))?[ \t]*(:|$)`),
			linesWith(" \t", "#")},
		// "System:" / "> developer:" / "**system:**" at a line start
		{Name + ".role_marker.line_prefix", regexp.MustCompile(
			`(?m)^[ \t>*_\[]*(system|developer)([ \t]+(prompt|message|instructions?))?[ \t]*[*_\]]*[ \t]*:`),
			linesWith(" \t>*_[", "system", "developer")},
		// <|system|>, <|im_start|>system, <|start_header_id|>system, [INST], <<SYS>>
		{Name + ".role_marker.chat_token", regexp.MustCompile(
			`<\|[ \t]*(system|developer|assistant|im_start|im_end|start_header_id|end_header_id|eot_id)[ \t]*\|>|\[/?inst\]|<</?sys>>`),
			ifAny("<|", "inst]", "sys>>")},
		// {"role": "system", ...}
		{Name + ".role_marker.json", regexp.MustCompile(
			`["']role["'][ \t\r\n]*:[ \t\r\n]*["'](system|developer)["']`),
			ifAny("role")},
	}}
	return ms
}

// quickCheck reports, cheaply and on raw text, whether s may contain a
// role marker: true when s is not plain ASCII (normtext.PlainASCII:
// printable, tab, LF, CR; such text normalises to itself apart from case
// and whitespace runs, which can neither create nor remove a marker key)
// or when mayHaveMarker holds. False means no marker can match, so s needs
// no normalisation.
func quickCheck(s string) bool { return !normtext.PlainASCII(s) || mayHaveMarker(s) }

// mayHaveMarker reports whether s (raw or normalised) contains, ignoring
// ASCII case, a literal some marker pattern needs: "system" or "developer"
// (line prefix, JSON, heading), "<|", "inst]" or "sys>>" (chat tokens), or
// "#" with "assistant" (heading). A bracket or an angle bracket alone
// (markdown, code, HTML) is not enough. It searches for rare anchor bytes
// with strings.IndexByte (vectorised) rather than looking at every byte.
func mayHaveMarker(s string) bool {
	if strings.Contains(s, "<|") || anchored(s, ']', 4, "inst]") || anchored(s, '>', 3, "sys>>") {
		return true
	}
	if anchored(s, 'y', 1, "system") || anchored(s, 'Y', 1, "system") ||
		anchored(s, 'v', 2, "developer") || anchored(s, 'V', 2, "developer") {
		return true
	}
	return strings.IndexByte(s, '#') >= 0 &&
		(anchored(s, 'n', 7, "assistant") || anchored(s, 'N', 7, "assistant"))
}

// anchored reports whether the lowercase key occurs in s ignoring ASCII
// case, finding candidates by the byte c at offset off of key.
func anchored(s string, c byte, off int, key string) bool {
	for i := off; i < len(s); {
		j := strings.IndexByte(s[i:], c)
		if j < 0 {
			return false
		}
		if p := i + j - off; hasPrefixFold(s[p:], key) {
			return true
		}
		i += j + 1
	}
	return false
}

// hasPrefixFold reports whether s starts with the lowercase ASCII key k,
// ignoring ASCII case.
func hasPrefixFold(s, k string) bool {
	if len(s) < len(k) {
		return false
	}
	for j := 0; j < len(k); j++ {
		c := s[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != k[j] {
			return false
		}
	}
	return true
}

// scan looks for fake role markers in user, document and tool text.
func (ms *markerSet) scan(tx *engine.Tx, p *compiled, c *conv.Conversation, v *verdict) {
	for mi := range c.Messages {
		m := &c.Messages[mi]
		for si := range m.Segments {
			seg := &m.Segments[si]
			if seg.Text == "" || !markerSources[seg.Source] || !quickCheck(seg.Text) {
				continue
			}
			rule, start, end, ok := ms.find(normtext.Get(tx, seg, normtext.Folded))
			if !ok {
				continue
			}
			f := engine.Finding{Rule: rule, Severity: engine.SeverityMedium, Message: mi, Start: start, End: end,
				Text: "fake role marker in " + string(seg.Source) + " text"}
			if p.RoleMarkers == ActionBlock {
				v.stop(400, CodeRoleMarker, "The request contains a fake role marker (text posing as a system or "+
					"assistant message).", f)
				return
			}
			v.add(f)
		}
	}
}

// find returns the first marker in a normalised view with its code-point
// span in the segment text.
func (ms *markerSet) find(nv *normtext.View) (rule string, start, end int, ok bool) {
	t := &nv.Text
	if !mayHaveMarker(t.Norm) {
		return "", 0, 0, false
	}
	for _, r := range ms.rules {
		if loc := r.index(r.re, t.Norm); loc != nil {
			start, end = t.OrigSpan(loc[0], loc[1])
			return r.rule, start, end, true
		}
	}
	return "", 0, 0, false
}

// ifAny runs the pattern only on texts that contain one of lits (every
// match contains one of them).
func ifAny(lits ...string) func(re *regexp.Regexp, s string) []int {
	return func(re *regexp.Regexp, s string) []int {
		for _, l := range lits {
			if strings.Contains(s, l) {
				return re.FindStringIndex(s)
			}
		}
		return nil
	}
}

// linesWith runs a pattern whose matches lie within one line (nothing in
// it matches a line break; "^" and "$" are multi-line) and start at the
// line's start, with bytes of lead and then one of lits, only on the lines
// that start so, first to last, and returns the first match found, placed
// in s. A regexp on a whole text tries every position; a prompt's lines
// seldom start so.
func linesWith(lead string, lits ...string) func(re *regexp.Regexp, s string) []int {
	return func(re *regexp.Regexp, s string) []int {
		for from := 0; from < len(s); {
			at := -1
			for _, l := range lits {
				if i := strings.Index(s[from:], l); i >= 0 && (at < 0 || i < at) {
					at = i
				}
			}
			if at < 0 {
				return nil
			}
			at += from
			start := strings.LastIndexByte(s[:at], '\n') + 1
			end := strings.IndexByte(s[at:], '\n')
			if end < 0 {
				end = len(s)
			} else {
				end += at
			}
			if lineStarts(s[start:end], lead, lits) {
				if loc := re.FindStringIndex(s[start:end]); loc != nil {
					return []int{start + loc[0], start + loc[1]}
				}
			}
			from = end + 1
		}
		return nil
	}
}

// lineStarts reports whether line starts with bytes of lead followed by
// one of lits.
func lineStarts(line, lead string, lits []string) bool {
	i := 0
	for i < len(line) && strings.IndexByte(lead, line[i]) >= 0 {
		i++
	}
	for _, l := range lits {
		if strings.HasPrefix(line[i:], l) {
			return true
		}
	}
	return false
}
