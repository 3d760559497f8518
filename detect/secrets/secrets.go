// Package secrets finds credentials in text: gitleaks' default rule set
// (loaded from gitleaks' embedded config through its own config package)
// plus rampart's rules for LLM provider keys and for private keys that are
// still being streamed.
//
// A keyword prefilter keeps clean text cheap: every rule has keywords (the
// rule only runs when one occurs, case-insensitively) and one Aho-Corasick
// pass over the text finds them all. Rules run only on text windows around
// their keyword hits. Regular expressions are Go regexp (RE2 semantics, no
// backtracking); gitleaks is built without its optional go-re2 (WASM) engine.
package secrets

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"regexp"

	"github.com/spf13/viper"
	glconfig "github.com/zricethezav/gitleaks/v8/config"

	"github.com/rampart-ai/rampart/internal/acdfa"
)

// Entity is the generic entity name of a secret.
const Entity = "SECRET"

// Config selects rules.
type Config struct {
	// DisableGitleaks turns gitleaks' default rule set off, leaving only
	// rampart's own rules. Default false.
	DisableGitleaks bool `yaml:"disable_gitleaks"`
	// DisabledRules lists rule ids (gitleaks' or rampart's) to skip.
	DisabledRules []string `yaml:"disabled_rules"`
}

// Match is one secret found in text.
type Match struct {
	// Rule is the rule id, e.g. "aws-access-token" or "rampart-openai-key".
	Rule string
	// Entity is "SECRET" or a more specific name (e.g. "OPENAI_API_KEY").
	Entity string
	// Start and End are byte offsets of the secret in the scanned text.
	Start, End int
	// Open is true when the match reaches the end of the text and may
	// continue in text not yet seen (a streamed PEM block before its END
	// line); see ContinueOpen.
	Open bool
}

// Scanner finds secrets. It is safe for concurrent use.
type Scanner struct {
	rules   []*rule
	global  []*glconfig.Allowlist
	trie    *acdfa.Automaton
	kwRules [][]int // keyword index -> rule indexes
	always  []int   // rules without keywords
	byID    map[string]int
}

type rule struct {
	id          string
	entity      string
	re          reMatcher
	secretGroup int
	entropy     float64
	allow       []*glconfig.Allowlist
	required    []string
	skipReport  bool
	open        bool // may be open at end of text (PEM)
	// anchored rules run their ^-anchored regex right after each keyword
	// hit instead of over a window (see genericAssignment).
	anchored bool
	// check, when set, must accept the secret text.
	check func(secret string) bool
}

// reMatcher is the part of *regexp.Regexp the scanner uses; gitleaks'
// regexp type is an alias of the standard library's in default builds.
type reMatcher interface {
	FindAllStringSubmatchIndex(s string, n int) [][]int
	NumSubexp() int
}

var (
	defaultOnce sync.Once
	defaultCfg  glconfig.Config
	defaultErr  error
	// stopSets are the stop words of the default config's allowlists,
	// lower-cased (written once, by readGitleaks in loadGitleaks).
	stopSets map[*glconfig.Allowlist]*acdfa.Automaton
)

// containsStopWord is gitleaks' Allowlist.ContainsStopWord for the default
// config's allowlists (whose stop words are in stopSets), and gitleaks' own
// for any other.
func containsStopWord(a *glconfig.Allowlist, s string) bool {
	if set := stopSets[a]; set != nil {
		return s != "" && acdfa.Contains(set, strings.ToLower(s))
	}
	stop, _ := a.ContainsStopWord(s)
	return stop
}

// hasStopWords reports whether a has stop words (see takeStopWords).
func hasStopWords(a *glconfig.Allowlist) bool {
	return stopSets[a] != nil || len(a.StopWords) > 0
}

// loadGitleaks translates gitleaks' embedded default config the way gitleaks
// itself does (viper TOML -> ViperConfig -> Translate), once per process,
// using a private viper instance.
func loadGitleaks() (glconfig.Config, error) {
	defaultOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				defaultErr = fmt.Errorf("secrets: gitleaks default config: %v", r)
			}
		}()
		stopSets = map[*glconfig.Allowlist]*acdfa.Automaton{}
		defaultCfg, defaultErr = readGitleaks(stopSets)
	})
	return defaultCfg, defaultErr
}

// readGitleaks translates gitleaks' embedded default config (a new copy on
// each call; Translate validates every allowlist). With own (not nil), each
// allowlist's stop words are matched by an acdfa automaton put in own
// instead of gitleaks' own automaton, which keeps 2 KiB per state (9 MB for the
// default lists): before Translate builds it, the list is replaced by one
// placeholder naming the automaton, and after it the allowlist holding the
// placeholder gets the automaton and no stop words.
func readGitleaks(own map[*glconfig.Allowlist]*acdfa.Automaton) (glconfig.Config, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(glconfig.DefaultConfig)); err != nil {
		return glconfig.Config{}, fmt.Errorf("secrets: read gitleaks default config: %w", err)
	}
	var vc glconfig.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return glconfig.Config{}, fmt.Errorf("secrets: decode gitleaks default config: %w", err)
	}
	var sets []*acdfa.Automaton
	take := func(words []string) []string {
		if own == nil || len(words) == 0 {
			return words
		}
		seen := map[string]bool{}
		var low []string
		for _, w := range words {
			if w = strings.ToLower(w); !seen[w] {
				seen[w] = true
				low = append(low, w)
			}
		}
		set, err := acdfa.New(low)
		if err != nil || seen[""] {
			return words // left to gitleaks
		}
		sets = append(sets, set)
		return []string{stopPlaceholder + strconv.Itoa(len(sets)-1)}
	}
	for i := range vc.Rules {
		r := &vc.Rules[i]
		for _, a := range r.Allowlists {
			a.StopWords = take(a.StopWords)
		}
		if r.AllowList != nil {
			r.AllowList.StopWords = take(r.AllowList.StopWords)
		}
	}
	for _, a := range vc.Allowlists {
		a.StopWords = take(a.StopWords)
	}
	if vc.AllowList != nil {
		vc.AllowList.StopWords = take(vc.AllowList.StopWords)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return glconfig.Config{}, fmt.Errorf("secrets: translate gitleaks default config: %w", err)
	}
	if len(sets) == 0 {
		return cfg, nil
	}
	n := len(own)
	give := func(a *glconfig.Allowlist) {
		if a == nil || len(a.StopWords) != 1 || !strings.HasPrefix(a.StopWords[0], stopPlaceholder) {
			return
		}
		if k, err := strconv.Atoi(a.StopWords[0][len(stopPlaceholder):]); err == nil && k < len(sets) {
			own[a], a.StopWords = sets[k], nil
		}
	}
	for _, a := range cfg.Allowlists {
		give(a)
	}
	for _, r := range cfg.Rules {
		for _, a := range r.Allowlists {
			give(a)
		}
	}
	if len(own)-n < len(sets) {
		return glconfig.Config{}, fmt.Errorf("secrets: gitleaks default config: %d of %d stop-word lists not found after translation", len(sets)-(len(own)-n), len(sets))
	}
	return cfg, nil
}

// stopPlaceholder starts the stop word that stands for a list while
// gitleaks translates its config (readGitleaks).
const stopPlaceholder = "\x00rampart stop words "

// entityFor names a few well-known gitleaks rules more specifically.
func entityFor(id string) string {
	switch {
	case id == "aws-access-token":
		return "AWS_ACCESS_KEY"
	case id == "jwt" || id == "jwt-base64":
		return "JWT"
	case id == "private-key":
		return "PRIVATE_KEY"
	case id == "gcp-api-key":
		return "GOOGLE_API_KEY"
	case id == "openai-api-key":
		return "OPENAI_API_KEY"
	case strings.HasPrefix(id, "anthropic-"):
		return "ANTHROPIC_API_KEY"
	case strings.HasPrefix(id, "github-"):
		return "GITHUB_TOKEN"
	}
	return Entity
}

// New builds a scanner: it translates gitleaks' rules (once per process)
// and builds the keyword automaton.
func New(cfg Config) (*Scanner, error) {
	disabled := map[string]bool{}
	for _, id := range cfg.DisabledRules {
		disabled[id] = true
	}
	s := &Scanner{byID: map[string]int{}}
	kw := map[string][]int{}
	add := func(r *rule, keywords []string) {
		idx := len(s.rules)
		s.rules = append(s.rules, r)
		s.byID[r.id] = idx
		if len(keywords) == 0 {
			s.always = append(s.always, idx)
		}
		for _, k := range keywords {
			k = strings.ToLower(k)
			kw[k] = append(kw[k], idx)
		}
	}
	known := map[string]bool{}
	if !cfg.DisableGitleaks {
		gl, err := loadGitleaks()
		if err != nil {
			return nil, err
		}
		s.global = gl.Allowlists
		for _, id := range gl.OrderedRules {
			known[id] = true
			r, ok := gl.Rules[id]
			if !ok || r.Regex == nil || r.Path != nil || disabled[id] {
				continue // path rules describe files, not text
			}
			nr := &rule{id: id, entity: entityFor(id), re: r.Regex, secretGroup: r.SecretGroup,
				entropy: r.Entropy, allow: r.Allowlists, skipReport: r.SkipReport}
			if id == "generic-api-key" {
				nr.re, nr.anchored, nr.secretGroup = genericAssignment, true, 1
			}
			for _, rq := range r.RequiredRules {
				nr.required = append(nr.required, rq.RuleID)
			}
			add(nr, r.Keywords)
		}
	}
	for _, x := range extraRules {
		known[x.id] = true
		if disabled[x.id] {
			continue
		}
		r := x.rule
		add(&r, x.keywords)
	}
	for id := range disabled {
		if !known[id] {
			return nil, fmt.Errorf("secrets: disabled_rules: unknown rule %q", id)
		}
	}
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s.kwRules = make([][]int, len(keys))
	for i, k := range keys {
		s.kwRules[i] = kw[k]
	}
	trie, err := acdfa.New(keys)
	if err != nil {
		return nil, fmt.Errorf("secrets: keywords: %w", err)
	}
	s.trie = trie
	return s, nil
}

// Rules returns the ids of the active rules.
func (s *Scanner) Rules() []string {
	out := make([]string, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.id
	}
	return out
}

var lowerPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Windows around a keyword hit: rules run on [hit-windowBefore,
// hit+windowAfter], widened to whole tokens (to the next whitespace after,
// at most tokenSlack bytes before).
const (
	windowBefore = 72
	windowAfter  = 320
	tokenSlack   = 64
)

// Scan returns every secret in text, sorted by start offset.
func (s *Scanner) Scan(text string) []Match {
	if s == nil || len(text) == 0 {
		return nil
	}
	runs := secretLikeRuns(text)
	if len(runs) == 0 {
		return nil
	}
	bp := lowerPool.Get().(*[]byte)
	low := (*bp)[:0]
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		low = append(low, c)
	}
	// hits[rule] = keyword spans (bounded)
	var hits map[int][][2]int
	acdfa.Walk(s.trie, low, func(end, n, pattern int) {
		if hits == nil {
			hits = make(map[int][][2]int, 4)
		}
		for _, ri := range s.kwRules[pattern] {
			h := hits[ri]
			if len(h) < 64 {
				hits[ri] = append(h, [2]int{end - n + 1, end + 1})
			}
		}
	})
	*bp = low
	lowerPool.Put(bp)
	if hits == nil && len(s.always) == 0 {
		return nil
	}
	var out []Match
	found := map[string]bool{}
	var pending []int // rules whose required rules must be checked
	ids := make([]int, 0, len(hits)+len(s.always))
	for ri := range hits {
		ids = append(ids, ri)
	}
	sort.Ints(ids)
	ids = append(ids, s.always...)
	// Anchored (generic) rules run last and skip spans already found by a
	// specific rule: their allowlists are the most expensive part of a scan.
	sort.SliceStable(ids, func(i, j int) bool { return !s.rules[ids[i]].anchored && s.rules[ids[j]].anchored })
	for _, ri := range ids {
		r := s.rules[ri]
		var ms []Match
		if r.anchored {
			ms = s.runAnchored(text, r, hits[ri], runs, out)
		} else {
			ms = s.runRule(text, r, hits[ri], runs)
		}
		if len(ms) > 0 {
			found[r.id] = true
		}
		if r.skipReport {
			continue
		}
		if len(r.required) > 0 && len(ms) > 0 {
			pending = append(pending, len(out), len(out)+len(ms))
		}
		out = append(out, ms...)
	}
	// Composite rules report only when all their required rules matched too.
	if len(pending) > 0 {
		keep := out[:0]
		for i, m := range out {
			drop := false
			for p := 0; p < len(pending); p += 2 {
				if i >= pending[p] && i < pending[p+1] {
					for _, rq := range s.rules[s.byID[m.Rule]].required {
						if !found[rq] {
							drop = true
						}
					}
				}
			}
			if !drop {
				keep = append(keep, m)
			}
		}
		out = keep
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End > out[j].End
	})
	return out
}

// runRule applies one rule to the windows around its keyword hits that
// hold a secret-like run (the whole text for rules without keywords).
func (s *Scanner) runRule(text string, r *rule, hits [][2]int, runs [][2]int) []Match {
	var wins [][2]int
	if len(hits) == 0 {
		wins = [][2]int{{0, len(text)}}
	}
	for _, h := range hits {
		lo, hi := h[0]-windowBefore, h[1]+windowAfter
		if r.open {
			hi = len(text) // a key block runs to its END line
		}
		if lo < 0 {
			lo = 0
		}
		if hi > len(text) {
			hi = len(text)
		}
		for k := 0; lo > 0 && !isSpace(text[lo-1]) && k < tokenSlack; k++ {
			lo--
		}
		for hi < len(text) && !isSpace(text[hi]) {
			hi++
		}
		if !intersects(runs, lo, hi) {
			continue
		}
		if n := len(wins); n > 0 && lo <= wins[n-1][1] {
			if hi > wins[n-1][1] {
				wins[n-1][1] = hi
			}
			continue
		}
		wins = append(wins, [2]int{lo, hi})
	}
	var out []Match
	for _, w := range wins {
		seg := text[w[0]:w[1]]
		for _, loc := range r.re.FindAllStringSubmatchIndex(seg, -1) {
			if m, ok := s.accept(text, seg, w[0], r, loc); ok {
				if n := len(out); n > 0 && out[n-1].Start == m.Start && out[n-1].End == m.End {
					continue
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// accept extracts the secret group from a regex match and applies the
// rule's entropy threshold and allowlists as gitleaks does.
func (s *Scanner) accept(text, seg string, off int, r *rule, loc []int) (Match, bool) {
	ms, me := loc[0], loc[1]
	// like gitleaks: a match does not extend over trailing newlines
	for me > ms && seg[me-1] == '\n' {
		me--
	}
	ss, se := ms, me
	if len(loc) >= 4 {
		if r.secretGroup > 0 {
			if 2*r.secretGroup+1 >= len(loc) || loc[2*r.secretGroup] < 0 {
				return Match{}, false
			}
			ss, se = loc[2*r.secretGroup], loc[2*r.secretGroup+1]
		} else {
			for g := 1; 2*g+1 < len(loc); g++ {
				if loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
					ss, se = loc[2*g], loc[2*g+1]
					break
				}
			}
		}
	}
	if se > me {
		se = me
	}
	if ss >= se {
		return Match{}, false
	}
	secret := seg[ss:se]
	if r.entropy > 0 && shannon(secret) <= r.entropy {
		return Match{}, false
	}
	if r.check != nil && !r.check(secret) {
		return Match{}, false
	}
	match := seg[ms:me]
	line := lineAround(seg, ms, me)
	if allowed(s.global, secret, match, line) || allowed(r.allow, secret, match, line) {
		return Match{}, false
	}
	m := Match{Rule: r.id, Entity: r.entity, Start: off + ss, End: off + se}
	if r.open && m.End == len(text) && !strings.Contains(secret, "-----END") {
		m.Open = true
	}
	return m, true
}

// lineAround is the line holding s[a:b], cut to lineSlack bytes either
// side: chat text can be one long line, and allowlist regexes that target
// the line only need the neighbourhood of the match.
func lineAround(s string, a, b int) string {
	lo := strings.LastIndexByte(s[:a], '\n') + 1
	if lo < a-lineSlack {
		lo = a - lineSlack
	}
	hi := len(s)
	if k := strings.IndexByte(s[b:], '\n'); k >= 0 {
		hi = b + k
	}
	if hi > b+lineSlack {
		hi = b + lineSlack
	}
	return s[lo:hi]
}

const lineSlack = 128

// allowed applies gitleaks allowlists to a finding. Commit and path
// conditions never hold for chat text.
func allowed(lists []*glconfig.Allowlist, secret, match, line string) bool {
	for _, a := range lists {
		target := secret
		switch a.RegexTarget {
		case "match":
			target = match
		case "line":
			target = line
		}
		regexOK := a.RegexAllowed(target)
		stop := containsStopWord(a, secret)
		if a.MatchCondition == glconfig.AllowlistMatchAnd {
			checks := 0
			ok := true
			if len(a.Commits) > 0 || len(a.Paths) > 0 {
				ok = false
			}
			if len(a.Regexes) > 0 {
				checks++
				ok = ok && regexOK
			}
			if hasStopWords(a) {
				checks++
				ok = ok && stop
			}
			if ok && checks > 0 {
				return true
			}
			continue
		}
		if regexOK || stop {
			return true
		}
	}
	return false
}

// shannon is the Shannon entropy of s in bits per character.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	var other map[rune]int
	n := 0
	for _, c := range s {
		n++
		if c < 256 {
			counts[c]++
		} else {
			if other == nil {
				other = map[rune]int{}
			}
			other[c]++
		}
	}
	// gitleaks divides by the byte length; keep its threshold semantics.
	inv := 1 / float64(len(s))
	e := 0.0
	for _, k := range counts {
		if k > 0 {
			f := float64(k) * inv
			e -= f * math.Log2(f)
		}
	}
	for _, k := range other {
		f := float64(k) * inv
		e -= f * math.Log2(f)
	}
	return e
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

// minRun is the shortest run of key characters that can be a secret.
const minRun = 10

// secretLikeRuns returns the spans of runs of at least minRun characters
// from [A-Za-z0-9+/=_.-] that hold a digit, or are 16+ long with upper- and
// lower-case letters: the shape of every credential the rules look for.
// Rules only run on windows that intersect such a run.
func secretLikeRuns(text string) [][2]int {
	var out [][2]int
	start := -1
	var dg, up, lo bool
	flush := func(end int) {
		if start >= 0 && end-start >= minRun && (dg || up && lo && end-start >= 16) {
			out = append(out, [2]int{start, end})
		}
		start, dg, up, lo = -1, false, false, false
	}
	for i := 0; i < len(text); i++ {
		k := keyClass[text[i]]
		if k == 0 {
			if start >= 0 {
				flush(i)
			}
			continue
		}
		if start < 0 {
			start = i
		}
		switch k {
		case 2:
			dg = true
		case 3:
			lo = true
		case 4:
			up = true
		}
	}
	flush(len(text))
	return out
}

func intersects(runs [][2]int, lo, hi int) bool {
	for _, r := range runs {
		if r[0] < hi && r[1] > lo {
			return true
		}
	}
	return false
}

// genericAssignment is gitleaks' generic-api-key rule from the keyword on:
// an assignment (key = value, key: value, ...) of a value of 10+ key
// characters. gitleaks' own pattern starts with a lazy 0-50 character
// prefix under (?i) that makes Go's regexp run at about 1 µs per byte;
// anchoring right after each keyword hit finds the same secrets at a
// fraction of the cost. gitleaks' entropy threshold and allowlists for
// the rule still apply.
var genericAssignment = regexp.MustCompile(`^(?i:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)`)

// anchoredSpan bounds the text an anchored rule reads after a keyword.
const anchoredSpan = 256

func (s *Scanner) runAnchored(text string, r *rule, hits [][2]int, runs [][2]int, taken []Match) []Match {
	var out []Match
	for _, h := range hits {
		hi := h[1] + anchoredSpan
		if hi > len(text) {
			hi = len(text)
		}
		for hi < len(text) && !isSpace(text[hi]) {
			hi++
		}
		if !intersects(runs, h[1], hi) {
			continue
		}
		// gitleaks' match starts up to 50 word characters before the keyword
		lo := h[0]
		for k := 0; lo > 0 && k < 50 && isWordish(text[lo-1]); k++ {
			lo--
		}
		seg := text[lo:hi]
		loc := r.re.FindAllStringSubmatchIndex(text[h[1]:hi], 1)
		if len(loc) == 0 || loc[0][2] < 0 {
			continue
		}
		if overlapsAny(taken, h[1]+loc[0][2], h[1]+loc[0][3]) || overlapsAny(out, h[1]+loc[0][2], h[1]+loc[0][3]) {
			continue
		}
		shift := h[1] - lo
		l := make([]int, len(loc[0]))
		for i, v := range loc[0] {
			if v >= 0 {
				v += shift
			}
			l[i] = v
		}
		l[0] = 0 // the match runs from the prefix
		if m, ok := s.accept(text, seg, lo, r, l); ok {
			if n := len(out); n > 0 && out[n-1].Start == m.Start {
				continue
			}
			out = append(out, m)
		}
	}
	return out
}

// keyClass classifies bytes for secretLikeRuns: 0 other, 1 symbol, 2
// digit, 3 lower, 4 upper.
var keyClass = func() (t [256]uint8) {
	for _, c := range "+/=_-." {
		t[c] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 2
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 3
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 4
	}
	return t
}()

func isWordish(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-'
}

func overlapsAny(ms []Match, a, b int) bool {
	for _, m := range ms {
		if m.Start < b && m.End > a {
			return true
		}
	}
	return false
}
