package topics

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	ac "github.com/BobuSumisu/aho-corasick"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/layers/internal/normtext"
)

// caseless and cased are the two normalisations terms go through. Text
// goes through the matching shared view (normtext.Folded or Cased, read
// through View.Flat, which is the same string).
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

// pattern is one normalised term and the rules that own it.
type pattern struct {
	text   string
	owners []int // rule indexes
}

// termSet is every term of one normalisation. Whole-word terms that start
// with a letter or digit are found through their first word (index);
// the others (substrings, terms starting with punctuation) through an
// Aho-Corasick automaton.
type termSet struct {
	kind  normtext.Kind
	pats  []pattern
	index *wordIndex // nil when empty
	trie  *ac.Trie   // nil when no term needs it
	acPat []int      // automaton pattern number → index in pats
}

// matcher is one compiled rule set (rules or allow topics).
type matcher struct {
	rules       []*crule
	lower, keep *termSet // nil when no rule needs it
	hasExamples bool
}

func compileRules(rules []Rule, allow bool) (*matcher, error) {
	m := &matcher{}
	lower, keep := &termSet{kind: normtext.Folded}, &termSet{kind: normtext.Cased}
	lowerPat, keepPat := map[string]int{}, map[string]int{}
	var vocab []string // unigrams of every example (stopwords dropped)
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
			opt, ts, pats := caseless, lower, lowerPat
			if r.CaseSensitive {
				opt, ts, pats = cased, keep, keepPat
			}
			norm := strings.TrimSpace(normalize.Normalize(term, opt).Norm)
			if norm == "" {
				return nil, fmt.Errorf("rule %s: term %q is empty after normalisation", r.ID, term)
			}
			pi, ok := pats[norm]
			if !ok {
				pi = len(ts.pats)
				pats[norm] = pi
				ts.pats = append(ts.pats, pattern{text: norm})
			}
			ts.pats[pi].owners = append(ts.pats[pi].owners, idx)
		}
		for _, ex := range r.Examples {
			n := normalize.Normalize(ex, caseless).Norm
			ws := words(n, nil)
			f := appendFeatures(nil, n, ws)
			if len(f) == 0 {
				return nil, fmt.Errorf("rule %s: example %q has no words beyond stopwords", r.ID, ex)
			}
			for _, w := range ws {
				if t := n[w.start:w.end]; !isStop(hashWord(fnvOffset, t)) {
					vocab = append(vocab, t)
				}
			}
			cr.examples = append(cr.examples, f)
			m.hasExamples = true
		}
		m.rules = append(m.rules, cr)
	}
	if lower.build(m.rules, vocab) {
		m.lower = lower
	}
	if keep.build(m.rules, nil) {
		m.keep = keep
	}
	return m, nil
}

// build splits ts's patterns between the word index and the automaton and
// adds the example vocabulary to the index. It reports whether ts has
// anything to match.
func (ts *termSet) build(rules []*crule, vocab []string) bool {
	var acList []string
	for pi, p := range ts.pats {
		if w, ok := indexable(p, rules); ok {
			ts.indexEntry(w).pats = append(ts.indexEntry(w).pats, pi)
			continue
		}
		acList = append(acList, p.text)
		ts.acPat = append(ts.acPat, pi)
	}
	for _, w := range vocab {
		ts.indexEntry(w).vocab = true
	}
	if len(acList) > 0 {
		ts.trie = ac.NewTrieBuilder().AddStrings(acList).Build()
	}
	return ts.index != nil || ts.trie != nil
}

func (ts *termSet) indexEntry(w string) *wordEntry {
	if ts.index == nil {
		ts.index = &wordIndex{words: map[uint64]*wordEntry{}}
	}
	return ts.index.add(w)
}

// indexable returns the first word of p when every owner of p matches
// whole words and p starts with a letter or digit: then every match of p
// starts where a word of the text starts, and that word equals p's first
// word.
func indexable(p pattern, rules []*crule) (string, bool) {
	for _, o := range p.owners {
		if !rules[o].wholeWord {
			return "", false
		}
	}
	ws := words(p.text, nil)
	if len(ws) == 0 || ws[0].start != 0 {
		return "", false
	}
	return p.text[:ws[0].end], true
}

// hit is one rule match in a segment.
type hit struct {
	rule       int
	start, end int // code points in the segment's text
	score      float64
	nend, nlen int // byte span end and length in the normalised text (term hits: match order)
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

// addTermHit appends a hit of pattern pi ending at byte e of s for every
// owner that applies to src.
func (m *matcher) addTermHit(ts *termSet, pi int, s string, t *normalize.Text, src conv.Source, e int, hits []hit) []hit {
	p := &ts.pats[pi]
	b := e - len(p.text)
	for _, o := range p.owners {
		r := m.rules[o]
		if !r.sources[src] || (r.wholeWord && !wordBounded(s, b, e)) {
			continue
		}
		os, oe := t.OrigSpan(b, e)
		hits = append(hits, hit{rule: o, start: os, end: oe, score: 1, nend: e, nlen: len(p.text)})
	}
	return hits
}

// scanTerms finds ts's terms in s (the flat normalised text of t). When
// the index holds example vocabulary, it also appends to sc.cands the
// start of every sentence that contains one of those words: only such
// sentences can share a feature with an example.
func (m *matcher) scanTerms(ts *termSet, s string, t *normalize.Text, src conv.Source, hits []hit, sc *scratch) []hit {
	from := len(hits)
	if ts.index != nil {
		hits = m.scanIndex(ts, s, t, src, hits, sc)
	}
	if ts.trie != nil {
		ts.trie.Walk(bytesOf(s), func(end, _, pattern int64) bool {
			hits = m.addTermHit(ts, ts.acPat[pattern], s, t, src, int(end)+1, hits)
			return true
		})
	}
	// Report in text order: by end, longer first (the automaton's order).
	slices.SortStableFunc(hits[from:], func(a, b hit) int {
		if a.nend != b.nend {
			return a.nend - b.nend
		}
		return b.nlen - a.nlen
	})
	return hits
}

// sentenceStop marks the bytes that end a sentence (see sentenceEnd).
var sentenceStop = [utf8.RuneSelf]bool{'.': true, '!': true, '?': true, ';': true, '\n': true}

// Byte classes for scanIndex: one table look-up per byte of text.
const (
	clsWord = 1 << iota // ASCII letter or digit (asciiWord)
	clsStop             // ASCII byte that ends a sentence (sentenceStop)
	clsHigh             // byte of a multi-byte UTF-8 sequence
)

var byteClass = func() (t [256]uint8) {
	for c := range utf8.RuneSelf {
		if asciiWord[c] {
			t[c] = clsWord
		}
		if sentenceStop[c] {
			t[c] = clsStop
		}
	}
	for c := utf8.RuneSelf; c < len(t); c++ {
		t[c] = clsHigh
	}
	return t
}()

// scanIndex is the word-index half of scanTerms: one pass over s that
// splits it into words exactly as words does and looks each up.
func (m *matcher) scanIndex(ts *termSet, s string, t *normalize.Text, src conv.Source, hits []hit, sc *scratch) []hit {
	ix := ts.index
	sent, lastCand := 0, -1 // current sentence start; last candidate recorded
	for i := 0; i < len(s); {
		ws := -1 // skip to the next word, noting sentence ends
		for i < len(s) {
			switch byteClass[s[i]] {
			case 0:
				i++
				continue
			case clsWord:
				ws = i
				i++
			case clsStop:
				i++
				sent = i
				continue
			default:
				r, size := utf8.DecodeRuneInString(s[i:])
				i += size
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					continue
				}
				ws = i - size
			}
			break
		}
		if ws < 0 {
			break
		}
		for i < len(s) { // to the end of the word
			k := byteClass[s[i]]
			if k == clsWord {
				i++
				continue
			}
			if k != clsHigh {
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			i += size
		}
		e := ix.lookup(s, ws, i)
		if e == nil {
			continue
		}
		if e.vocab && sent != lastCand {
			sc.cands = append(sc.cands, sent)
			lastCand = sent
		}
		for _, pi := range e.pats {
			if p := ts.pats[pi].text; strings.HasPrefix(s[ws:], p) {
				hits = m.addTermHit(ts, pi, s, t, src, ws+len(p), hits)
			}
		}
	}
	return hits
}

// scanExamples compares the candidate sentences (sc.cands) of s with the
// rules' examples.
func (m *matcher) scanExamples(s string, t *normalize.Text, src conv.Source, hits []hit, sc *scratch) []hit {
	for _, start := range sc.cands {
		end := sentenceEnd(s, start)
		sent := s[start:end]
		if len(sent) > maxSentence {
			sent = sent[:maxSentence]
		}
		sc.words = words(sent, sc.words[:0])
		sc.feats = appendFeatures(sc.feats[:0], sent, sc.words)
		if len(sc.feats) == 0 {
			continue
		}
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
	words []word
	feats features
	hits  []hit
	cands []int // starts of sentences that may match an example
}

// rawMayMatch reports whether ts may find anything in the normalisation of
// s, judging by s itself, so that text which cannot match is not
// normalised. The normalisations of plain ASCII (normtext.PlainASCII) only
// fold case (Folded) and collapse whitespace: their words are s's words,
// case-folded for Folded. When none of those is in the index and ts has no
// automaton, nothing can match: every term is found through its first word,
// and a sentence is only compared with the examples when it holds a word of
// their vocabulary (also in the index).
func (ts *termSet) rawMayMatch(s string, plain *int8) bool {
	if ts.trie != nil {
		return true
	}
	if *plain == 0 {
		*plain = -1
		if normtext.PlainASCII(s) {
			*plain = 1
		}
	}
	if *plain < 0 {
		return true
	}
	ix := ts.index
	// Folding an ASCII letter or digit to lowercase sets bit 0x20 (digits
	// have it already).
	var fold byte
	if ts.kind == normtext.Folded {
		fold = 0x20
	}
	for i := 0; i < len(s); {
		for i < len(s) && byteClass[s[i]] != clsWord {
			i++
		}
		ws := i
		for i < len(s) && byteClass[s[i]] == clsWord {
			i++
		}
		if ws == i {
			break
		}
		// The shape test of lookup, inline: it rejects almost every word.
		if c := s[ws] | fold; ix.shape[shapeLen(i-ws)][c>>6]&(1<<(c&63)) == 0 {
			continue
		}
		if ix.words[hashWordOr(s[ws:i], fold)] != nil {
			return true
		}
	}
	return false
}

// scan returns the hits of m in one segment's current text. Plain-ASCII
// text none of whose words is in the index is not normalised at all
// (rawMayMatch).
//
// nc returns the transaction's cache of normalised views (created on first
// use: a request none of whose text needs normalising creates none).
func (m *matcher) scan(nc func() *normtext.Cache, seg *conv.Segment, sc *scratch) []hit {
	hits := sc.hits[:0]
	var plain int8 // PlainASCII(seg.Text): 0 unknown, 1 yes, -1 no
	if m.lower != nil && m.lower.rawMayMatch(seg.Text, &plain) {
		v := nc().Get(seg, normtext.Folded)
		s := v.Flat()
		sc.cands = sc.cands[:0]
		hits = m.scanTerms(m.lower, s, &v.Text, seg.Source, hits, sc)
		hits = m.scanExamples(s, &v.Text, seg.Source, hits, sc)
	}
	if m.keep != nil && m.keep.rawMayMatch(seg.Text, &plain) {
		v := nc().Get(seg, normtext.Cased)
		hits = m.scanTerms(m.keep, v.Flat(), &v.Text, seg.Source, hits, sc)
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
