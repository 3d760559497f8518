package rules

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// The leading prefixes (prefilter.go) say where a match can begin; most
// windows that contain one still cannot match, because a word the pattern
// needs further on ("instructions", "prompt", "your answer", ...) is not
// there, and the regex engine takes microseconds to find that out (it
// tries every start and every way of skipping the words in between). A
// need is a cheaper necessary condition, derived from the pattern like the
// prefixes: literals every match contains, in the order they appear in it.
// A window that lacks them is not searched; one that has them is searched
// as before, so the result is the one the regex gives on its own.

// maxNeedLits bounds the strings of one need literal set (the cross product
// of neighbouring literal parts stops growing there).
const maxNeedLits = 64

// need is a condition every match of a pattern meets. Exactly one of lits,
// seq and alt is set.
type need struct {
	// lits: the match contains one of these strings (none empty, none
	// containing another), the shortest of which is minLen bytes long;
	// idx finds them.
	lits   []string
	minLen int
	idx    *litIndex
	// seq: the match contains what each of these needs, one after the
	// other in this order.
	seq []*need
	// alt: the match meets one of these.
	alt []*need
}

// needOf returns what every match of the regular expression expr contains,
// or nil when nothing useful is known (then every window is searched).
func needOf(expr string) *need {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return needOfRe(re)
}

func needOfRe(re *syntax.Regexp) *need {
	if l, ok := litSet(re); ok {
		return litNeed(l)
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return needOfRe(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return needOfRe(re.Sub[0])
		}
	case syntax.OpConcat:
		// Neighbouring parts that match finitely many strings are joined
		// (their cross product: "god mode", "evil mode", ...), the others
		// contribute what they need themselves.
		var seq []*need
		add := func(n *need) {
			if n != nil {
				seq = append(seq, n)
			}
		}
		run := []string{""}
		for _, sub := range re.Sub {
			if l, ok := litSet(sub); ok {
				if len(run)*len(l) <= maxNeedLits {
					run = cross(run, l)
					continue
				}
				add(litNeed(run))
				run = l
				continue
			}
			add(litNeed(run))
			run = []string{""}
			add(needOfRe(sub))
		}
		add(litNeed(run))
		switch len(seq) {
		case 0:
			return nil
		case 1:
			return seq[0]
		}
		return &need{seq: seq}
	case syntax.OpAlternate:
		n := &need{}
		for _, sub := range re.Sub {
			b := needOfRe(sub)
			if b == nil {
				return nil // a branch that needs nothing: neither does the whole
			}
			n.alt = append(n.alt, b)
		}
		return n
	}
	return nil
}

// litSet returns every string re can match when there are at most
// maxNeedLits of them. Zero-width assertions (\b, ^, ...) match "": the set
// may hold strings that re matches only in some contexts, which is enough
// for a necessary condition. U+FFFD is not a literal: it also matches a
// byte of invalid UTF-8.
func litSet(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || slices.Contains(re.Rune, utf8.RuneError) {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if int(re.Rune[i+1]-re.Rune[i]) >= maxNeedLits-len(out) ||
				re.Rune[i] <= utf8.RuneError && utf8.RuneError <= re.Rune[i+1] {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, string(r))
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture:
		return litSet(re.Sub[0])
	case syntax.OpQuest:
		l, ok := litSet(re.Sub[0])
		if !ok || len(l) >= maxNeedLits {
			return nil, false
		}
		return append([]string{""}, l...), true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			l, ok := litSet(sub)
			if !ok || len(out)*len(l) > maxNeedLits {
				return nil, false
			}
			out = cross(out, l)
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l, ok := litSet(sub)
			if !ok || len(out)+len(l) > maxNeedLits {
				return nil, false
			}
			out = append(out, l...)
		}
		return out, true
	}
	return nil, false
}

// cross returns every a+b for a in x, b in y.
func cross(x, y []string) []string {
	out := make([]string, 0, len(x)*len(y))
	for _, a := range x {
		for _, b := range y {
			out = append(out, a+b)
		}
	}
	return out
}

// litNeed is the need "one of l occurs", or nil when l holds "" (that needs
// nothing). A string containing another of the set is dropped: the shorter
// one occurs wherever it does.
func litNeed(l []string) *need {
	n := &need{}
	for i, s := range l {
		if s == "" {
			return nil
		}
		covered := false
		for j, t := range l {
			if j != i && strings.Contains(s, t) && (len(t) < len(s) || j < i) {
				covered = true // t occurs within s (of equal ones, keep the first)
				break
			}
		}
		if !covered {
			n.lits = append(n.lits, s)
		}
	}
	n.minLen = len(n.lits[0])
	for _, s := range n.lits {
		n.minLen = min(n.minLen, len(s))
	}
	n.idx = newLitIndex(n.lits)
	return n
}

// meets reports whether text, from byte pos on, can hold what n needs, and
// if so the least position where what follows it can begin.
//
// For lits: a match's string s from the set begins at some j >= pos; s
// contains a kept string t at j+d, so the first kept string found at i
// has i <= j+d, and what follows s begins at j+len(s) >= j+d+len(t) >=
// i+minLen. Hence the returned position is a lower bound.
func (n *need) meets(text string, pos int) (int, bool) {
	switch {
	case n.lits != nil:
		i := n.idx.first(text[pos:])
		if i < 0 {
			return 0, false
		}
		return pos + i + n.minLen, true
	case n.seq != nil:
		for _, s := range n.seq {
			var ok bool
			if pos, ok = s.meets(text, pos); !ok {
				return 0, false
			}
		}
		return pos, true
	}
	best := -1
	for _, a := range n.alt {
		if p, ok := a.meets(text, pos); ok && (best < 0 || p < best) {
			best = p
		}
	}
	return best, best >= 0
}
