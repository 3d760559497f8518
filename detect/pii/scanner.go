package pii

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Entity names (Presidio's).
const (
	Email      = "EMAIL_ADDRESS"
	Phone      = "PHONE_NUMBER"
	CreditCard = "CREDIT_CARD"
	IBAN       = "IBAN_CODE"
	USSSN      = "US_SSN"
	IPAddress  = "IP_ADDRESS"
	MACAddress = "MAC_ADDRESS"
	Crypto     = "CRYPTO"
)

// AllEntities lists every entity the scanner knows, in a fixed order.
var AllEntities = []string{Email, Phone, CreditCard, IBAN, USSSN, IPAddress, MACAddress, Crypto}

// DefaultPhoneRegions are the regions national phone numbers are validated
// against when Config.PhoneRegions is empty. Numbers written with a leading
// "+" and country code are validated for any country.
var DefaultPhoneRegions = []string{"US", "GB", "DE", "FR", "IN"}

// DefaultMinScore is the score a match needs when Config.MinScore is 0.
const DefaultMinScore = 0.5

// contextBoost is added to a match's score when a context word is near it.
const contextBoost = 0.35

// contextBefore and contextAfter bound how far (in bytes) context words are
// looked for around a match.
// negBefore bounds how far before a match (in bytes) a negative context
// word ("order", "version") turns it into something else.
const negBefore = 24

// negated reports whether a negative context word stands before start in
// the same clause (no line break or sentence end between them) and closer
// than any positive context word.
func negated(text string, start int, neg, pos []string) bool {
	if len(neg) == 0 {
		return false
	}
	lo := start - negBefore
	if lo < 0 {
		lo = 0
	}
	for i := start - 1; i >= lo; i-- {
		c := text[i]
		if c == '\n' || c == '\r' || (c == '.' || c == ';' || c == '!' || c == '?') && i+1 < len(text) && (text[i+1] == ' ' || text[i+1] == '\n') {
			lo = i + 1
			break
		}
	}
	seg := strings.ToLower(text[lo:start])
	n := lastWord(seg, neg)
	// the word qualifies the next number only
	return n >= 0 && n > lastWord(seg, pos) && strings.IndexAny(seg[n:], "0123456789") < 0
}

// lastWord returns the offset of the last occurrence in seg of one of
// words at word boundaries, or -1.
func lastWord(seg string, words []string) int {
	best := -1
	for _, w := range words {
		for off := 0; ; {
			k := strings.Index(seg[off:], w)
			if k < 0 {
				break
			}
			p := off + k
			e := p + len(w)
			if (p == 0 || !isAlnum(seg[p-1])) && (e == len(seg) || !isAlnum(seg[e])) && p > best {
				best = p
			}
			off = p + 1
		}
	}
	return best
}

const (
	contextBefore = 48
	contextAfter  = 24
)

// Config selects recognisers and tunes them. The zero value enables every
// entity with the default phone regions and minimum score.
type Config struct {
	// Entities lists the entity names to detect. Empty: all of AllEntities.
	Entities []string `yaml:"entities"`
	// PhoneRegions are ISO 3166 region codes that national-format phone
	// numbers are validated against. Empty: DefaultPhoneRegions.
	PhoneRegions []string `yaml:"phone_regions"`
	// MinScore drops matches whose confidence (after context) is below it.
	// 0 means DefaultMinScore; it must be within [0, 1].
	MinScore float64 `yaml:"min_score"`
	// ContextWords adds lowercase words per entity that raise a match's
	// score when they appear shortly before or after it.
	ContextWords map[string][]string `yaml:"context_words"`
}

// Match is one entity found in text.
type Match struct {
	Entity string
	// Start and End are byte offsets into the scanned text.
	Start, End int
	// Score is the confidence in [0, 1].
	Score float64
}

// Scanner finds entities in text. It is safe for concurrent use.
type Scanner struct {
	recs     []*recogniser
	minScore float64
	regions  []string
	needAt   bool // some enabled recogniser triggers on '@'
	person   bool // PERSON enabled (Config.Entities lists it)
	street   bool // STREET_ADDRESS enabled
	location bool // LOCATION enabled
	// emailContext are the e-mail recogniser's context words (for
	// obfuscated addresses, found outside the windows).
	emailContext []string
}

// New builds a scanner from cfg; it compiles nothing per call.
func New(cfg Config) (*Scanner, error) {
	s := &Scanner{minScore: cfg.MinScore, regions: cfg.PhoneRegions}
	if s.minScore == 0 {
		s.minScore = DefaultMinScore
	}
	if s.minScore < 0 || s.minScore > 1 {
		return nil, fmt.Errorf("pii: min_score %v is outside [0, 1]", cfg.MinScore)
	}
	if len(s.regions) == 0 {
		s.regions = DefaultPhoneRegions
	}
	for i, r := range s.regions {
		r = strings.ToUpper(strings.TrimSpace(r))
		if !knownRegion(r) {
			return nil, fmt.Errorf("pii: unknown phone region %q", cfg.PhoneRegions[i])
		}
		if i == 0 {
			s.regions = append([]string(nil), s.regions...)
		}
		s.regions[i] = r
	}
	want := cfg.Entities
	if len(want) == 0 {
		want = AllEntities
	}
	all := builtins(s)
	seen := map[string]bool{}
	for _, e := range want {
		switch e {
		case Person:
			s.person = true
			continue
		case StreetAddress:
			s.street = true
			continue
		case Location:
			s.location = true
			continue
		}
		rs, ok := all[e]
		if !ok {
			return nil, fmt.Errorf("pii: unknown entity %q (known: %s, and off by default %s)", e, strings.Join(AllEntities, ", "), strings.Join(OptionalEntities, ", "))
		}
		if seen[e] {
			continue
		}
		seen[e] = true
		for _, r := range rs {
			r.context = append(append([]string(nil), r.context...), lowerAll(cfg.ContextWords[e])...)
			s.recs = append(s.recs, r)
		}
	}
	for e := range cfg.ContextWords {
		if _, ok := all[e]; !ok {
			return nil, fmt.Errorf("pii: context_words for unknown entity %q", e)
		}
	}
	for _, r := range s.recs {
		if r.entity == Email {
			s.needAt = true
			s.emailContext = r.context
		}
	}
	return s, nil
}

func lowerAll(ws []string) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// Scan returns every match in text scoring at least the minimum score,
// sorted by start offset. Matches never overlap: one entity per span, the
// most specific validated one (see resolve).
func (s *Scanner) Scan(text string) []Match { return s.ScanMemo(text, nil) }

// ScanMemo is Scan keeping phone-number verdicts in m between calls (see
// Memo): for a caller that scans overlapping texts, such as a stream's
// last bytes with every event. m may be nil.
func (s *Scanner) ScanMemo(text string, m *Memo) []Match {
	if s == nil || len(s.recs) == 0 && !s.person && !s.street && !s.location {
		return nil
	}
	wins := windows(text)
	var out []Match
	var cx *scanCtx // built on first use: most texts trigger no recogniser
	for _, w := range wins {
		seg := text[w[0]:w[1]]
		for _, r := range s.recs {
			if !r.trigger(seg) {
				continue
			}
			for _, loc := range r.re.FindAllStringIndex(seg, -1) {
				var cs []cand
				if r.validateCx != nil {
					if cx == nil {
						cx = &scanCtx{text: text, memo: m}
					}
					cs = r.validateCx(cx, w[0]+loc[0], w[0]+loc[1])
				} else {
					cs = r.validate(text, w[0]+loc[0], w[0]+loc[1])
				}
				for _, c := range cs {
					st, en := c.start, c.end
					score := c.score
					if score <= 0 {
						continue
					}
					if negated(text, st, r.negContext, r.context) {
						continue
					}
					if score < 1 && hasWord(text, st, en, r.context) {
						score += contextBoost
						if score > 1 {
							score = 1
						}
					}
					if score+1e-9 < s.minScore {
						continue
					}
					out = append(out, Match{Entity: r.entity, Start: st, End: en, Score: score})
				}
			}
		}
	}
	if s.person {
		for _, c := range names(text) {
			if c.score+1e-9 >= s.minScore {
				out = append(out, Match{Entity: Person, Start: c.start, End: c.end, Score: c.score})
			}
		}
	}
	if s.street || s.location {
		streets := streetAddresses(text)
		if s.street {
			for _, c := range streets {
				if c.score+1e-9 >= s.minScore {
					out = append(out, Match{Entity: StreetAddress, Start: c.start, End: c.end, Score: c.score})
				}
			}
		}
		if s.location {
			for _, c := range locations(text, streets) {
				if c.score+1e-9 >= s.minScore {
					out = append(out, Match{Entity: Location, Start: c.start, End: c.end, Score: c.score})
				}
			}
		}
	}
	if s.needAt {
		for _, c := range obfuscatedEmails(text) {
			score := c.score
			if hasWord(text, c.start, c.end, s.emailContext) {
				score = min(1, score+contextBoost)
			}
			if score+1e-9 >= s.minScore {
				out = append(out, Match{Entity: Email, Start: c.start, End: c.end, Score: score})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End > out[j].End
	})
	return resolve(dedupe(out))
}

// specificity orders entities for overlapping matches: checksum-validated
// entities first, then the structured ones, phone numbers last (almost any
// digit run is some country's possible phone number).
var specificity = map[string]int{
	IBAN: 9, CreditCard: 8, Crypto: 8, USSSN: 7, Email: 6, IPAddress: 5, MACAddress: 5, StreetAddress: 3, Person: 2, Location: 2, Phone: 1,
}

// resolve keeps one entity per span: among overlapping matches the most
// specific entity wins, then the longer span, then the higher score. The
// result is sorted by start offset.
func resolve(ms []Match) []Match {
	if len(ms) < 2 {
		return ms
	}
	overlap := false
	for i := 1; i < len(ms) && !overlap; i++ {
		for k := i - 1; k >= 0; k-- {
			if ms[k].End > ms[i].Start {
				overlap = true
				break
			}
		}
	}
	if !overlap {
		return ms
	}
	order := make([]int, len(ms))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := ms[order[a]], ms[order[b]]
		if specificity[x.Entity] != specificity[y.Entity] {
			return specificity[x.Entity] > specificity[y.Entity]
		}
		if lx, ly := x.End-x.Start, y.End-y.Start; lx != ly {
			return lx > ly
		}
		return x.Score > y.Score
	})
	keep := make([]bool, len(ms))
	var kept []Match
	for _, i := range order {
		m := ms[i]
		ok := true
		for _, k := range kept {
			if m.Start < k.End && k.Start < m.End {
				ok = false
				break
			}
		}
		if ok {
			keep[i] = true
			kept = append(kept, m)
		}
	}
	out := ms[:0]
	for i, m := range ms {
		if keep[i] {
			out = append(out, m)
		}
	}
	return out
}

// dedupe removes exact duplicates (same entity and span), keeping the best score.
func dedupe(ms []Match) []Match {
	if len(ms) < 2 {
		return ms
	}
	out := ms[:1]
	for _, m := range ms[1:] {
		found := false
		for k := len(out) - 1; k >= 0 && out[k].Start == m.Start; k-- {
			if out[k].End == m.End && out[k].Entity == m.Entity {
				if m.Score > out[k].Score {
					out[k].Score = m.Score
				}
				found = true
				break
			}
		}
		if !found {
			out = append(out, m)
		}
	}
	return out
}

// interesting reports whether b can be part of an entity's trigger: a
// digit, '@' or ':'. Text without any of these holds no entity.
func interesting(b byte) bool {
	return (b >= '0' && b <= '9') || b == '@' || b == ':'
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}

// maxBridge is the longest run of non-interesting token bytes that still
// joins two interesting tokens into one window (e.g. "WEST" inside an IBAN).
const maxBridge = 5

// windows splits text into whitespace-separated tokens and returns the byte
// ranges of maximal runs of interesting tokens (a token holding a digit, '@'
// or ':'), bridging short plain tokens between them. Only these windows are
// searched by the recognisers' regular expressions.
func windows(text string) [][2]int {
	var out [][2]int
	n := len(text)
	i := 0
	curStart, curEnd := -1, -1
	pendingGap := 0 // bytes of plain tokens since curEnd
	for i < n {
		for i < n && isSpace(text[i]) {
			i++
		}
		if i >= n {
			break
		}
		ts := i
		hit := false
		for i < n && !isSpace(text[i]) {
			if !hit && interesting(text[i]) {
				hit = true
			}
			i++
		}
		if hit {
			if curStart >= 0 && pendingGap <= maxBridge {
				curEnd = i
			} else {
				if curStart >= 0 {
					out = append(out, [2]int{curStart, curEnd})
				}
				curStart, curEnd = ts, i
			}
			pendingGap = 0
		} else if curStart >= 0 {
			pendingGap += i - ts
		}
	}
	if curStart >= 0 {
		out = append(out, [2]int{curStart, curEnd})
	}
	return out
}

// hasWord reports whether any of words occurs (case-insensitively, at a
// word start) within the context bytes around [start, end).
func hasWord(text string, start, end int, words []string) bool {
	if len(words) == 0 {
		return false
	}
	lo := start - contextBefore
	if lo < 0 {
		lo = 0
	}
	hi := end + contextAfter
	if hi > len(text) {
		hi = len(text)
	}
	var buf [contextBefore + contextAfter]byte
	b := buf[:0]
	for i := lo; i < start; i++ {
		b = append(b, lower(text[i]))
	}
	b = append(b, ' ')
	for i := end; i < hi && len(b) < cap(buf); i++ {
		b = append(b, lower(text[i]))
	}
	ctx := string(b)
	for _, w := range words {
		for off := 0; ; {
			k := strings.Index(ctx[off:], w)
			if k < 0 {
				break
			}
			p := off + k
			if p == 0 || !isAlnum(ctx[p-1]) {
				return true
			}
			off = p + 1
		}
	}
	return false
}

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 32
	}
	return b
}

func isAlnum(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// CodePointOffsets converts byte offsets into text to offsets in Unicode
// code points (as engine.Finding wants). Offsets must be ascending or not;
// each is clamped to [0, len(text)] and, if it falls inside a UTF-8
// sequence, counts the partial sequence's code point as started.
func CodePointOffsets(text string, byteOffs ...int) []int {
	out := make([]int, len(byteOffs))
	for k, off := range byteOffs {
		if off < 0 {
			off = 0
		}
		if off > len(text) {
			off = len(text)
		}
		out[k] = utf8.RuneCountInString(text[:off])
	}
	return out
}

// CodePointOffset converts one byte offset into a code-point offset.
func CodePointOffset(text string, byteOff int) int {
	return CodePointOffsets(text, byteOff)[0]
}
