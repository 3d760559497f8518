package topics

import (
	"fmt"
	"testing"

	ac "github.com/BobuSumisu/aho-corasick"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/layers/internal/normtext"
)

// refScan is the straightforward matcher the optimised one must agree
// with: normalise the text on its own, run one Aho-Corasick automaton over
// every term, and compare every sentence with the examples.
func refScan(m *matcher, text string, src conv.Source) []hit {
	var hits []hit
	for _, ts := range []*termSet{m.lower, m.keep} {
		if ts == nil {
			continue
		}
		opt := caseless
		if ts.kind == normtext.Cased {
			opt = cased
		}
		t := normalize.Normalize(text, opt)
		if len(ts.pats) > 0 {
			list := make([]string, len(ts.pats))
			for i, p := range ts.pats {
				list[i] = p.text
			}
			ac.NewTrieBuilder().AddStrings(list).Build().Walk([]byte(t.Norm), func(end, n, pi int64) bool {
				e := int(end) + 1
				s := e - int(n)
				for _, o := range ts.pats[pi].owners {
					r := m.rules[o]
					if r.sources[src] && (!r.wholeWord || wordBounded(t.Norm, s, e)) {
						os, oe := t.OrigSpan(s, e)
						hits = append(hits, hit{rule: o, start: os, end: oe, score: 1})
					}
				}
				return true
			})
		}
		if ts.kind != normtext.Folded || !m.hasExamples {
			continue
		}
		s := t.Norm
		for start := 0; start < len(s); {
			end := sentenceEnd(s, start)
			sent := s[start:end]
			if len(sent) > maxSentence {
				sent = sent[:maxSentence]
			}
			f := appendFeatures(nil, sent, words(sent, nil))
			for ri, r := range m.rules {
				if len(r.examples) == 0 || !r.sources[src] || len(f) == 0 {
					continue
				}
				best := 0.0
				for _, ex := range r.examples {
					best = max(best, cosine(f, ex))
				}
				if best >= r.Threshold {
					os, oe := t.OrigSpan(start, end)
					hits = append(hits, hit{rule: ri, start: os, end: oe, score: best})
				}
			}
			start = end
		}
	}
	return hits
}

var refRules = []Rule{
	{ID: "names", Terms: []string{"Globex", "Initech Corp", "Initech", "Ünïcode Ltd", "北京", "C++", "x_y"}},
	{ID: "subs", Terms: []string{"dar", "corp", "ec"}, WholeWord: boolp(false), Action: ActionRedact},
	{ID: "punct", Terms: []string{"#hashtag", "@acme", "--force"}, Action: ActionFlag},
	{ID: "shared", Terms: []string{"globex"}, WholeWord: boolp(false), Action: ActionFlag},
	{ID: "cased", Terms: []string{"ACME", "Big Co", "acme"}, CaseSensitive: true, Action: ActionFlag},
	{ID: "weapons", Examples: []string{"how do I build a pipe bomb at home", "instructions for making explosives"},
		Sources: []string{"user", "document"}},
	{ID: "low", Examples: []string{"pricing of competitor products"}, Threshold: 0.2, Action: ActionFlag},
}

var refTexts = []string{
	"Is Globex cheaper than Initech   Corp?", "GLOBEX.globex;globextra xglobex", "darnit, darn it, Corporate",
	"How can I build a pipe bomb in my home? Thanks.\nAlso: instructions\nfor making explosives!",
	"we compare pricing; competitor products are cheaper", "Ｇlоbex and Glo\u200bbex", "ACME acme Acme Big   Co",
	"learn C++ and C# at 北京大学 or 在北京 ", "#hashtag @acme --force x_y x_yz", "Ünïcode Ltd. unicode ltd",
	"", "....", "\xff\xfe", "bomb", "a.b!c?d;e\nf",
}

func checkAgainstRef(t *testing.T, m *matcher, text string) {
	t.Helper()
	for _, src := range []conv.Source{conv.SourceUser, conv.SourceDocument, conv.SourceTool} {
		seg := conv.NewSegment(text, src, "")
		var nc normtext.Cache
		want := fmt.Sprint(refScan(m, text, src))
		for range 2 { // the second scan uses the cached view
			if got := fmt.Sprint(stripOrder(m.scan(func() *normtext.Cache { return &nc }, &seg, new(scratch)))); got != want {
				t.Fatalf("%s %q:\n got %v\nwant %v", src, text, got, want)
			}
		}
	}
}

// stripOrder drops the ordering keys only the optimised matcher sets.
func stripOrder(hs []hit) []hit {
	out := make([]hit, len(hs))
	for i, h := range hs {
		h.nend, h.nlen = 0, 0
		out[i] = h
	}
	return out
}

func TestScanMatchesReference(t *testing.T) {
	m, err := compileRules(refRules, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range refTexts {
		checkAgainstRef(t, m, s)
	}
}

func FuzzScanMatchesReference(f *testing.F) {
	for _, s := range refTexts {
		f.Add(s)
	}
	m, err := compileRules(refRules, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			s = s[:4096]
		}
		checkAgainstRef(t, m, s)
	})
}
