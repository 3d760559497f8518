package secrets

import (
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"
)

// Heads returns the plain heads of the active rules' secrets: for every
// rule whose matches all begin with one of a few literal strings ("ghp_",
// "sk-proj-", "(?:sk|rk)_live_", "xox[bp]-"), the leading lower-case
// letters and digits of each ("ghp", "sk", "rk", "xox"; a literal matched
// in any letter case is lower-cased first; "AKIA" gives none: it is not
// plain letters). A stream that
// ends in the first letters of a head may be about to write such a
// secret; see the output guard's hold-back. Rules that start with a
// context word, a class or anything else give no head. Sorted, unique.
func (s *Scanner) Heads() []string {
	set := map[string]bool{}
	for _, r := range s.rules {
		src, ok := r.re.(interface{ String() string })
		if !ok {
			continue
		}
		re, err := syntax.Parse(src.String(), syntax.Perl)
		if err != nil {
			continue
		}
		for _, p := range literalPrefixes(re.Simplify(), 16) {
			k := 0
			for k < len(p) && (p[k] >= 'a' && p[k] <= 'z' || p[k] >= '0' && p[k] <= '9') {
				k++
			}
			if k > 0 {
				set[p[:k]] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// literalPrefixes returns the literal strings (lower-cased where the
// regex ignores case) one of which
// begins every match of re, or nil when some match may begin otherwise
// (a class, a repetition, an empty match) or there would be more than max.
func literalPrefixes(re *syntax.Regexp, max int) []string {
	switch re.Op {
	case syntax.OpLiteral:
		// lower-cased only when matched in any case: an upper-case head
		// ("AKIA") stays upper-case and yields no plain head
		if re.Flags&syntax.FoldCase != 0 {
			return []string{strings.ToLower(string(re.Rune))}
		}
		return []string{string(re.Rune)}
	case syntax.OpCharClass:
		// one letter in both cases ("[Mm]"): its lower-case form
		if len(re.Rune) == 4 && re.Rune[0] == re.Rune[1] && re.Rune[2] == re.Rune[3] &&
			unicode.ToLower(re.Rune[0]) == unicode.ToLower(re.Rune[2]) && re.Rune[0] != re.Rune[2] {
			return []string{string(unicode.ToLower(re.Rune[0]))}
		}
		return nil
	case syntax.OpCapture:
		return literalPrefixes(re.Sub[0], max)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			switch sub.Op {
			case syntax.OpBeginText, syntax.OpBeginLine, syntax.OpWordBoundary, syntax.OpEmptyMatch:
				continue
			}
			return literalPrefixes(sub, max)
		}
		return nil
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			p := literalPrefixes(sub, max)
			if p == nil || len(out)+len(p) > max {
				return nil
			}
			out = append(out, p...)
		}
		return out
	}
	return nil
}
