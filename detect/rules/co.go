package rules

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/normalize"
)

// Co-occurrence rules (Rule.All): the multilingual rules, where one surface
// form per phrase cannot cover the inflections of a language, are written
// as groups of stems ("ignor", "игнорир", "تجاهل"), one of each of which
// must occur close together. The stems of every such rule are found in one
// Aho-Corasick pass of their own; the window check then costs nothing for
// texts that contain none of them.

// maxCoGroups bounds the groups of one rule (a bit mask tracks them).
const maxCoGroups = 8

// coSet is the compiled co-occurrence rules of a Set.
type coSet struct {
	// owners[p]: the (rule, group) pairs stem p belongs to
	owners [][]coStem
	index  map[string]int
	stems  []string
}

// coStem is one use of a stem: its rule and group, whether it may begin
// inside a word and whether it must end at the end of one.
type coStem struct {
	ref             coRef
	anywhere, whole bool
}

type coRef struct {
	rule  int // index into Set.Rules
	group uint8
}

// coOcc is one stem occurrence: byte span, rule and group.
type coOcc struct {
	start, end int
	ref        coRef
}

var stemNorm = normalize.Options{}

// addCo validates and registers a co-occurrence rule.
func (s *Set) addCo(r *Rule) error {
	switch {
	case len(r.Keywords) > 0 || r.Regex != "":
		return fmt.Errorf("rules: %s: a rule has either all: or keywords and regex", r.ID)
	case len(r.All) < 2 || len(r.All) > maxCoGroups:
		return fmt.Errorf("rules: %s: all: wants 2 to %d groups", r.ID, maxCoGroups)
	case r.Within <= 0 || r.Within > 4*window:
		return fmt.Errorf("rules: %s: within %d outside [1, %d]", r.ID, r.Within, 4*window)
	case r.Side != "" && r.Side != "after" && r.Side != "before":
		return fmt.Errorf("rules: %s: side %q: want after, before or empty", r.ID, r.Side)
	}
	if s.co == nil {
		s.co = &coSet{index: map[string]int{}}
	}
	c := s.co
	ri := len(s.Rules)
	for g, group := range r.All {
		if len(group) == 0 {
			return fmt.Errorf("rules: %s: empty group %d", r.ID, g)
		}
		for _, raw := range group {
			any := strings.HasPrefix(raw, "*")
			raw = strings.TrimPrefix(raw, "*")
			whole := strings.HasSuffix(raw, "$")
			raw = strings.TrimSuffix(raw, "$")
			// the script is the written stem's: normalisation may fold a
			// letter into a Latin look-alike
			first, size := utf8.DecodeRuneInString(raw)
			any = any || spacelessScript(first)
			// Normalisation folds some capitals into other look-alikes than
			// their small letters (Cyrillic Н → h, н stays): the stem is
			// also registered as written at the start of a sentence and in
			// capitals.
			for _, form := range []string{raw, string(unicode.ToUpper(first)) + raw[size:], strings.ToUpper(raw)} {
				stem := normalize.Normalize(form, stemNorm).Norm
				if strings.TrimSpace(stem) == "" {
					return fmt.Errorf("rules: %s: empty stem in group %d", r.ID, g)
				}
				c.add(stem, any, whole, coRef{rule: ri, group: uint8(g)})
			}
		}
	}
	s.Rules = append(s.Rules, r)
	return nil
}

// add registers one normalised stem for ref.
func (c *coSet) add(stem string, any, whole bool, ref coRef) {
	n, ok := c.index[stem]
	if !ok {
		n = len(c.stems)
		c.index[stem] = n
		c.stems = append(c.stems, stem)
		c.owners = append(c.owners, nil)
	}
	e := coStem{ref: ref, anywhere: any, whole: whole}
	for _, o := range c.owners[n] {
		if o == e {
			return
		}
	}
	c.owners[n] = append(c.owners[n], e)
}

// spacelessScript reports a letter of a script whose words are not
// separated by spaces or take attached prefixes: a stem beginning with it
// may match inside a run of letters.
func spacelessScript(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai, unicode.Arabic)
}

// buildCo adds the stems to the keyword automaton's patterns (one pass
// over the text finds both) and returns them; stem[p] is the stem of
// pattern p, or -1.
func (s *Set) buildCo(patterns []string, kwIndex map[string]int) ([]string, []int32) {
	stem := make([]int32, len(patterns), len(patterns)+len(s.co.stemsOrNil()))
	for i := range stem {
		stem[i] = -1
	}
	if s.co == nil {
		return patterns, stem
	}
	for si, st := range s.co.stems {
		if p, ok := kwIndex[st]; ok {
			stem[p] = int32(si) // a keyword too: one pattern, both uses
			continue
		}
		kwIndex[st] = len(patterns)
		patterns = append(patterns, st)
		s.kw = append(s.kw, nil)
		stem = append(stem, int32(si))
	}
	return patterns, stem
}

func (c *coSet) stemsOrNil() []string {
	if c == nil {
		return nil
	}
	return c.stems
}

// coSeen records an occurrence of stem p ending at end (n bytes long).
func (s *Set) coSeen(text string, end, n, p int, untrusted bool, sc *Scratch) {
	st := end - n + 1
	inWord := st > 0 && isWordByte(text[st-1])
	endWord := end+1 == len(text) || !isWordByte(text[end+1])
	for _, e := range s.co.owners[p] {
		if (inWord && !e.anywhere) || (e.whole && !endWord) || (s.Rules[e.ref.rule].Untrusted() && !untrusted) {
			continue
		}
		sc.occ = append(sc.occ, coOcc{start: st, end: end + 1, ref: e.ref})
	}
}

// matchCo appends the hits of the co-occurrence rules, from the stem
// occurrences coSeen recorded, one per rule at most.
func (s *Set) matchCo(text string, sc *Scratch, hits []Hit) []Hit {
	if len(sc.occ) < 2 {
		return hits
	}
	// by rule, then start (insertion sort: few occurrences, no allocation)
	occ := sc.occ
	for i := 1; i < len(occ); i++ {
		for j := i; j > 0 && occLess(occ[j], occ[j-1]); j-- {
			occ[j], occ[j-1] = occ[j-1], occ[j]
		}
	}
	for i := 0; i < len(occ); {
		j := i
		for j < len(occ) && occ[j].ref.rule == occ[i].ref.rule {
			j++
		}
		r := s.Rules[occ[i].ref.rule]
		if a, z, ok := coWindow(occ[i:j], len(r.All), r.Within, r.Side); ok && !r.excused(text, a, z) {
			hits = append(hits, Hit{Rule: r, Start: a, End: z})
		}
		i = j
	}
	return hits
}

func occLess(a, b coOcc) bool {
	if a.ref.rule != b.ref.rule {
		return a.ref.rule < b.ref.rule
	}
	return a.start < b.start
}

// coWindow finds an occurrence of group 0 (the anchor) with, within
// within bytes of it on the given side, an occurrence of each of the other
// n-1 groups; it returns the span they cover. occ is one rule's
// occurrences by start.
func coWindow(occ []coOcc, n, within int, side string) (int, int, bool) {
	full := uint32(1)<<n - 1
	for i, g := range occ {
		if g.ref.group != 0 {
			continue
		}
		mask, a, z := uint32(1), g.start, g.end
		// occurrences are by start: look back, then forward
		for j := i - 1; j >= 0 && side != "after"; j-- {
			o := occ[j]
			if g.start-o.start > within {
				break
			}
			if o.end <= g.start {
				mask |= 1 << o.ref.group
				a = min(a, o.start)
			}
		}
		for j := i + 1; j < len(occ) && side != "before"; j++ {
			o := occ[j]
			if o.end-g.end > within {
				if o.start-g.end > within {
					break
				}
				continue
			}
			if o.start >= g.end {
				mask |= 1 << o.ref.group
				z = max(z, o.end)
			}
		}
		if mask == full {
			return a, z, true
		}
	}
	return 0, 0, false
}
