package topics

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	ac "github.com/BobuSumisu/aho-corasick"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/normalize"
)

// caseless and cased are the two normalisations terms and text go through.
var (
	caseless = normalize.Options{NoSpecialTokens: true}
	cased    = normalize.Options{NoSpecialTokens: true, KeepCase: true}
)

// maxSentence bounds how much of one sentence feeds the similarity check.
const maxSentence = 2048

// crule is a compiled rule.
type crule struct {
	Rule
	id        string // "topics.<id>"
	wholeWord bool
	sources   map[conv.Source]bool
	examples  []features
}

// owner is one rule that owns an automaton pattern.
type owner struct{ rule int }

// automaton is an Aho-Corasick automaton over normalised terms of one
// normalisation (caseless or cased).
type automaton struct {
	trie   *ac.Trie
	owners [][]owner // per pattern index
}

// matcher is one compiled rule set (rules or allow topics).
type matcher struct {
	rules       []*crule
	lower, keep *automaton // nil when no rule needs it
	hasExamples bool
}

func compileRules(rules []Rule, allow bool) (*matcher, error) {
	m := &matcher{}
	lowerPat, keepPat := map[string]int{}, map[string]int{}
	var lowerList, keepList []string
	var lowerOwn, keepOwn [][]owner
	seen := map[string]bool{}
	for _, r := range rules {
		r.fill()
		if err := r.validate(allow); err != nil {
			return nil, err
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("rule id %q used twice", r.ID)
		}
		seen[r.ID] = true
		cr := &crule{Rule: r, id: Name + "." + r.ID, wholeWord: *r.WholeWord, sources: map[conv.Source]bool{}}
		for _, s := range r.Sources {
			cr.sources[sourceNames[s]] = true
		}
		idx := len(m.rules)
		for _, term := range r.Terms {
			opt, pats, list, own := caseless, lowerPat, &lowerList, &lowerOwn
			if r.CaseSensitive {
				opt, pats, list, own = cased, keepPat, &keepList, &keepOwn
			}
			norm := strings.TrimSpace(normalize.Normalize(term, opt).Norm)
			if norm == "" {
				return nil, fmt.Errorf("rule %s: term %q is empty after normalisation", r.ID, term)
			}
			pi, ok := pats[norm]
			if !ok {
				pi = len(*list)
				pats[norm] = pi
				*list = append(*list, norm)
				*own = append(*own, nil)
			}
			(*own)[pi] = append((*own)[pi], owner{idx})
		}
		for _, ex := range r.Examples {
			n := normalize.Normalize(ex, caseless).Norm
			f := appendFeatures(nil, n, words(n, nil))
			if len(f) == 0 {
				return nil, fmt.Errorf("rule %s: example %q has no words beyond stopwords", r.ID, ex)
			}
			cr.examples = append(cr.examples, f)
			m.hasExamples = true
		}
		m.rules = append(m.rules, cr)
	}
	if len(lowerList) > 0 {
		m.lower = &automaton{trie: ac.NewTrieBuilder().AddStrings(lowerList).Build(), owners: lowerOwn}
	}
	if len(keepList) > 0 {
		m.keep = &automaton{trie: ac.NewTrieBuilder().AddStrings(keepList).Build(), owners: keepOwn}
	}
	return m, nil
}

// hit is one rule match in a segment, as a byte span of the normalised
// text it was found in (t).
type hit struct {
	rule       int
	start, end int // code points in the segment's text
	score      float64
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// wordBounded reports whether s[start:end] is a whole word of s.
func wordBounded(s string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:start])
		if isWordRune(r) {
			return false
		}
	}
	if end < len(s) {
		r, _ := utf8.DecodeRuneInString(s[end:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// scanTerms runs automaton a over t and appends hits of rules that apply to
// src.
func (m *matcher) scanTerms(a *automaton, t *normalize.Text, src conv.Source, hits []hit) []hit {
	if a == nil || t.Norm == "" {
		return hits
	}
	a.trie.Walk(bytesOf(t.Norm), func(end, n, pattern int64) bool {
		e := int(end) + 1
		s := e - int(n)
		for _, o := range a.owners[pattern] {
			r := m.rules[o.rule]
			if !r.sources[src] || (r.wholeWord && !wordBounded(t.Norm, s, e)) {
				continue
			}
			os, oe := t.OrigSpan(s, e)
			hits = append(hits, hit{rule: o.rule, start: os, end: oe, score: 1})
		}
		return true
	})
	return hits
}

// scanExamples compares each sentence of t with the rules' examples.
func (m *matcher) scanExamples(t *normalize.Text, src conv.Source, hits []hit, sc *scratch) []hit {
	if !m.hasExamples {
		return hits
	}
	s := t.Norm
	for start := 0; start < len(s); {
		end := sentenceEnd(s, start)
		sent := s[start:end]
		if len(sent) > maxSentence {
			sent = sent[:maxSentence]
		}
		sc.words = words(sent, sc.words[:0])
		sc.feats = appendFeatures(sc.feats[:0], sent, sc.words)
		if len(sc.feats) > 0 {
			for ri, r := range m.rules {
				if len(r.examples) == 0 || !r.sources[src] {
					continue
				}
				best := 0.0
				for _, ex := range r.examples {
					best = max(best, cosine(sc.feats, ex))
				}
				if best >= r.Threshold {
					os, oe := t.OrigSpan(start, end)
					hits = append(hits, hit{rule: ri, start: os, end: oe, score: best})
				}
			}
		}
		start = end
	}
	return hits
}

// sentenceEnd returns the end of the sentence starting at i: after the
// next '.', '!', '?', ';' or newline, or the end of s.
func sentenceEnd(s string, i int) int {
	j := strings.IndexAny(s[i:], ".!?;\n")
	if j < 0 {
		return len(s)
	}
	return i + j + 1
}

// scratch is per-call reusable memory.
type scratch struct {
	lower, keep normalize.Text
	words       []word
	feats       features
	hits        []hit
}

// scan returns the hits of m in one segment's text.
func (m *matcher) scan(text string, src conv.Source, sc *scratch) []hit {
	hits := sc.hits[:0]
	if m.lower != nil || m.hasExamples {
		normalize.NormalizeInto(&sc.lower, text, caseless)
		hits = m.scanTerms(m.lower, &sc.lower, src, hits)
		hits = m.scanExamples(&sc.lower, src, hits, sc)
	}
	if m.keep != nil {
		normalize.NormalizeInto(&sc.keep, text, cased)
		hits = m.scanTerms(m.keep, &sc.keep, src, hits)
	}
	sc.hits = hits
	return hits
}

// appliesTo reports whether any rule of m checks text from src.
func (m *matcher) appliesTo(src conv.Source) bool {
	for _, r := range m.rules {
		if r.sources[src] {
			return true
		}
	}
	return false
}
