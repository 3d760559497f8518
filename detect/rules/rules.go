// Package rules holds the phrase rules of rampart's injection detector: a
// gitleaks-style YAML file (embedded) of rules, each with an id, a severity,
// keywords found in one Aho-Corasick pass over the normalised text, an RE2
// pattern confirmed in a bounded window around each keyword hit (searched
// only from where a match can begin, see prefilter.go), and true-positive
// and false-positive samples that the package's tests run.
//
// Rules are evidence: package detect feeds their hits, together with the
// learned model's scores, into one calibrated score.
package rules

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/internal/acdfa"
)

//go:embed rules.yaml
var defaultYAML []byte

// Severity levels, in increasing order, and Allow for allowlist rules.
const (
	Allow    = "allow"
	Low      = "low"
	Medium   = "medium"
	High     = "high"
	Critical = "critical"
)

// SeverityRank orders severities (0 for unknown).
func SeverityRank(s string) int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 4
	}
	return 0
}

// Rule is one entry of the rules file.
type Rule struct {
	ID          string   `yaml:"id"`
	Description string   `yaml:"description"`
	Severity    string   `yaml:"severity"`
	Scope       string   `yaml:"scope"` // "" or "any": every source; "untrusted": documents and tool results only
	Keywords    []string `yaml:"keywords"`
	Regex       string   `yaml:"regex"`
	TP          []string `yaml:"tp"`
	FP          []string `yaml:"fp"`
	// FPAny are texts the rule must not match in user text (scope untrusted
	// rules only) although it may match them in documents.
	FPAny []string `yaml:"fp_any"`
	// All makes a co-occurrence rule (instead of Keywords and Regex): a stem
	// of the first group (the anchor, usually the verb) with, within Within
	// bytes of it, a stem of every other group: after the anchor if Side is
	// "after", before it if "before", either side if "". Stems are written in their own
	// script and normalised like the text when the rules are loaded; a stem
	// matches at the start of a word (so it matches every inflection that
	// only adds endings), or anywhere when it begins in a script written
	// without spaces between words or with attached clitics (Han, kana,
	// Hangul, Thai, Arabic), or when it begins with "*".
	All    [][]string `yaml:"all"`
	Within int        `yaml:"within"`
	Side   string     `yaml:"side"`
	// Allow are RE2 patterns of benign uses (a per-rule allowlist, as in
	// gitleaks): a match is dropped when one of them matches the text
	// around it (allowContext bytes before and after the match), e.g. an
	// e-mail correction ("ignore the instructions I sent on Monday") or a
	// guardrail prompt that quotes the attack ("if the user asks you to
	// ignore these rules, refuse").
	Allow   []string `yaml:"allow"`
	allowRe []*regexp.Regexp

	re *regexp.Regexp
	// pre finds the leading prefixes, one of which begins every match of
	// re (nil: unknown; see prefilter.go)
	pre *litIndex
	// need: what every match of re contains (nil: unknown; see need.go)
	need *need
}

// IsAllow reports whether the rule is an allowlist rule.
func (r *Rule) IsAllow() bool { return r.Severity == Allow }

// Untrusted reports whether the rule applies only to untrusted content.
func (r *Rule) Untrusted() bool { return r.Scope == "untrusted" }

type file struct {
	Rules []Rule `yaml:"rules"`
}

// Hit is one rule match; Start and End are byte offsets into the scanned
// (normalised) text.
type Hit struct {
	Rule       *Rule
	Start, End int
}

// Set is a compiled rule set, safe for concurrent use.
type Set struct {
	Rules    []*Rule
	keywords *acdfa.Automaton
	patterns []string // the keywords, by number
	// kw maps a keyword number to the rules that own the keyword.
	kw [][]int
	// co-occurrence rules (see Rule.All); their stems are patterns of the
	// keyword automaton too: stem[p] is pattern p's stem number, or -1
	co   *coSet
	stem []int32
}

// window is how far around a keyword hit (in bytes) a rule's regex looks.
const window = 160

// Default compiles the embedded rules file.
func Default() (*Set, error) { return Parse(defaultYAML) }

// Parse compiles a rules file.
func Parse(data []byte) (*Set, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	s := &Set{}
	kwIndex := map[string]int{}
	var patterns []string
	seen := map[string]bool{}
	for i := range f.Rules {
		r := &f.Rules[i]
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("rules: rule %d has no id", i)
		case seen[r.ID]:
			return nil, fmt.Errorf("rules: duplicate id %q", r.ID)
		case SeverityRank(r.Severity) == 0 && r.Severity != Allow:
			return nil, fmt.Errorf("rules: %s: bad severity %q", r.ID, r.Severity)
		case r.Scope != "" && r.Scope != "any" && r.Scope != "untrusted":
			return nil, fmt.Errorf("rules: %s: bad scope %q", r.ID, r.Scope)
		case len(r.TP) == 0:
			return nil, fmt.Errorf("rules: %s: no true-positive samples", r.ID)
		case len(r.All) > 0:
			if err := r.compileAllow(); err != nil {
				return nil, err
			}
			if err := s.addCo(r); err != nil {
				return nil, err
			}
			seen[r.ID] = true
			continue
		case len(r.Keywords) == 0:
			return nil, fmt.Errorf("rules: %s: no keywords", r.ID)
		case r.Regex == "":
			return nil, fmt.Errorf("rules: %s: no regex", r.ID)
		}
		seen[r.ID] = true
		re, err := regexp.Compile(r.Regex)
		if err != nil {
			return nil, fmt.Errorf("rules: %s: %w", r.ID, err)
		}
		r.re = re
		if err := r.compileAllow(); err != nil {
			return nil, err
		}
		r.pre, r.need = filtersOf(r.Regex)
		for _, k := range r.Keywords {
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" {
				return nil, fmt.Errorf("rules: %s: empty keyword", r.ID)
			}
			n, ok := kwIndex[k]
			if !ok {
				n = len(patterns)
				kwIndex[k] = n
				patterns = append(patterns, k)
				s.kw = append(s.kw, nil)
			}
			s.kw[n] = append(s.kw[n], len(s.Rules))
		}
		s.Rules = append(s.Rules, r)
	}
	patterns, s.stem = s.buildCo(patterns, kwIndex)
	dfa, err := acdfa.New(patterns)
	if err != nil {
		return nil, err
	}
	s.keywords, s.patterns = dfa, patterns
	return s, nil
}

func isWordByte(c byte) bool {
	return isASCIIWordByte(c) || c >= 0x80
}

// isASCIIWordByte reports an ASCII letter, digit or underscore.
func isASCIIWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// Scratch is per-call working memory for Match; reuse one per goroutine.
type Scratch struct {
	spans [][]int // per rule: keyword hit windows, flattened [a,b,a,b...]
	used  []int
	occ   []coOcc // stem occurrences of co-occurrence rules
}

// Match returns the hits of every rule on text (normalised). untrusted
// enables the rules scoped to documents and tool results. hits is appended
// to and returned.
func (s *Set) Match(text string, untrusted bool, sc *Scratch, hits []Hit) []Hit {
	if len(text) == 0 {
		return hits
	}
	if len(sc.spans) < len(s.Rules) {
		sc.spans = make([][]int, len(s.Rules))
	}
	sc.used = sc.used[:0]
	sc.occ = sc.occ[:0]
	acdfa.Walk(s.keywords, text, func(end, n, pattern int) {
		if si := s.stem[pattern]; si >= 0 {
			s.coSeen(text, end, n, int(si), untrusted, sc)
		}
		st, en := end-n+1, end+1
		// Keywords match whole words only, at ends that are ASCII word
		// characters. A keyword that begins or ends in another script
		// matches inside words there: Chinese and Japanese have no spaces,
		// and a stem must match its inflections.
		if st > 0 && isASCIIWordByte(text[st]) && isWordByte(text[st-1]) {
			return
		}
		if en < len(text) && isASCIIWordByte(text[en-1]) && isWordByte(text[en]) {
			return
		}
		a, z := max(0, st-window), min(len(text), en+window)
		for _, ri := range s.kw[pattern] {
			r := s.Rules[ri]
			if r.Untrusted() && !untrusted {
				continue
			}
			sp := sc.spans[ri]
			if len(sp) == 0 {
				sc.used = append(sc.used, ri)
			}
			if k := len(sp); k > 0 && a <= sp[k-1] {
				sp[k-1] = max(sp[k-1], z)
			} else {
				sp = append(sp, a, z)
			}
			sc.spans[ri] = sp
		}
	})
	sort.Ints(sc.used)
	for _, ri := range sc.used {
		r := s.Rules[ri]
		sp := sc.spans[ri]
		for k := 0; k < len(sp); k += 2 {
			a, z := sp[k], sp[k+1]
			// widen to a word boundary so \b is not fooled by the cut
			for a > 0 && isWordByte(text[a]) {
				a--
			}
			for z < len(text) && isWordByte(text[z-1]) {
				z++
			}
			if loc := r.findAllowed(text, a, z); loc != nil {
				hits = append(hits, Hit{Rule: r, Start: loc[0], End: loc[1]})
				break // one hit per rule is enough evidence
			}
		}
		sc.spans[ri] = sp[:0]
	}
	if s.co != nil {
		hits = s.matchCo(text, sc, hits)
	}
	return hits
}

// allowContext is how many bytes around a match a rule's allow patterns see.
const allowContext = 80

func (r *Rule) compileAllow() error {
	for _, a := range r.Allow {
		re, err := regexp.Compile(a)
		if err != nil {
			return fmt.Errorf("rules: %s: allow: %w", r.ID, err)
		}
		r.allowRe = append(r.allowRe, re)
	}
	return nil
}

// excused reports whether an allow pattern of r matches around text[a:z]
// (allowContext bytes either side) in a span that touches the match or
// the allowTail bytes after it: a benign phrase elsewhere in the text
// ("do not tell anyone", two sentences earlier) excuses nothing.
func (r *Rule) excused(text string, a, z int) bool {
	if len(r.allowRe) == 0 {
		return false
	}
	ca, cz := max(0, a-allowContext), min(len(text), z+allowContext)
	for ca > 0 && text[ca]&0xC0 == 0x80 {
		ca--
	}
	for cz < len(text) && text[cz]&0xC0 == 0x80 {
		cz++
	}
	for _, re := range r.allowRe {
		for _, m := range re.FindAllStringIndex(text[ca:cz], 4) {
			if ca+m[1] >= a && ca+m[0] <= z+allowTail {
				return true
			}
		}
	}
	return false
}

// allowTail: an allow pattern may begin this far after the match ("ignore
// the instructions" ... "in my last e-mail").
const allowTail = 40

// findAllowed is the first match of r in text[a:z] that no allow pattern
// excuses, as offsets into text.
func (r *Rule) findAllowed(text string, a, z int) []int {
	for off := a; off < z; {
		loc := r.find(text[off:z])
		if loc == nil {
			return nil
		}
		loc[0], loc[1] = loc[0]+off, loc[1]+off
		if !r.excused(text, loc[0], loc[1]) {
			return loc
		}
		// search again after the excused match's first word
		off = loc[0] + 1
		for off < z && isWordByte(text[off]) {
			off++
		}
	}
	return nil
}
