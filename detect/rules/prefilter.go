package rules

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A rule's regex is run on a window around each keyword hit; for ordinary
// text that is the expensive part of rule matching (the largest patterns
// cost tens of microseconds per window, in proportion to its length). Most
// patterns begin with one of a few words ("\b(?:ignore|disregard|…)"), so
// a window that contains none of them cannot match and is not searched,
// and one that does is searched from the first of them. The prefixes are
// derived from the pattern itself, which keeps this exact: the result is
// the one a search of the whole window gives.

// maxPrefix is how much of each leading literal is kept: a shorter prefix
// is still necessary, and fewer distinct ones are cheaper to look for.
const maxPrefix = 4

// maxPrefixes bounds the prefixes of one pattern (past it: no prefilter).
const maxPrefixes = 64

// leadingPrefixes returns byte strings one of which begins every match of
// the regular expression expr, or nil if it cannot tell (then every window
// is searched).
func leadingPrefixes(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits, ok := leading(re)
	if !ok || len(lits) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range lits {
		if strings.ContainsRune(l, utf8.RuneError) {
			// RE2 matches U+FFFD also against a byte of invalid UTF-8,
			// which no substring search finds: unknown
			return nil
		}
		if len(l) > maxPrefix {
			l = l[:maxPrefix]
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	if len(out) > maxPrefixes {
		return nil
	}
	return out
}

// leading returns strings one of which every match of re starts with.
func leading(re *syntax.Regexp) ([]string, bool) {
	if re.Flags&syntax.FoldCase != 0 {
		return nil, false
	}
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		// a few single characters
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == 16 {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture:
		return leading(re.Sub[0])
	case syntax.OpPlus:
		return leading(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return leading(re.Sub[0])
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			switch sub.Op {
			case syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpBeginText, syntax.OpBeginLine, syntax.OpEmptyMatch:
				continue // zero-width: the match starts with what follows
			}
			return leading(sub)
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l, ok := leading(sub)
			if !ok {
				return nil, false
			}
			out = append(out, l...)
		}
		return out, true
	}
	return nil, false
}

// filtersOf derives the cheap checks that run before a rule's regex expr:
// the index of its leading prefixes and what every match contains (each
// nil when unknown).
func filtersOf(expr string) (*litIndex, *need) {
	var pre *litIndex
	if p := leadingPrefixes(expr); p != nil {
		pre = newLitIndex(p)
	}
	return pre, needOf(expr)
}

// firstStart returns where in window a match of the rule's regex can begin
// at the earliest: the first occurrence of one of its leading prefixes (0
// when it has none), or -1 when none occurs and it cannot match at all.
func (r *Rule) firstStart(window string) int {
	if r.pre == nil {
		return 0
	}
	return r.pre.first(window)
}

// mayMatch reports whether the rule's regex can match in window: false only
// when none of its leading prefixes occurs there.
func (r *Rule) mayMatch(window string) bool { return r.firstStart(window) >= 0 }

// find is the rule's regex on window, searched from the first position where
// a match can begin. The byte before that position is kept, so \b and the
// like see the same context as in the whole window; no match can begin at
// it (no prefix occurs there), so the leftmost match is the same.
func (r *Rule) find(window string) []int {
	q := r.firstStart(window)
	if q < 0 {
		return nil
	}
	if r.need != nil {
		if _, ok := r.need.meets(window, q); !ok {
			return nil // what every match contains is not there
		}
	}
	off := max(q-1, 0)
	loc := r.re.FindStringIndex(window[off:])
	if loc != nil {
		loc[0], loc[1] = loc[0]+off, loc[1]+off
	}
	return loc
}
