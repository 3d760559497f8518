package secrets

import (
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"
)

// Heads returns the plain heads of the active rules' secrets: for every
// rule whose matches all begin with one of a few literal strings ("ghp_",
// "sk-proj-", "(?:sk|rk)_live_", "xox[bp]-": a small class after a
// literal counts as its letters), the leading lower-case letters and
// digits of each ("ghp", "sk", "rk", "xoxb", "xoxp"; a literal matched in
// any letter case is lower-cased first; "AKIA" gives none: it is not
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
		// literals, and after one small classes of letters and digits
		// (8 at most), extend the prefixes ("gh" then [su] then "_":
		// "ghs_", "ghu_"); anything else ends them with its own prefixes
		out := []string{""}
		for _, sub := range re.Sub {
			switch sub.Op {
			case syntax.OpBeginText, syntax.OpBeginLine, syntax.OpWordBoundary, syntax.OpEmptyMatch:
				continue
			}
			var next []string
			if sub.Op == syntax.OpLiteral {
				next = literalPrefixes(sub, max)
			} else if cs := smallClass(sub, 8); cs != nil && out[0] != "" {
				next = cs
			} else {
				next = literalPrefixes(sub, max)
				if next == nil {
					break
				}
				return cross(out, next, max)
			}
			if len(out)*len(next) > max {
				break
			}
			out = cross(out, next, max)
		}
		if len(out) == 1 && out[0] == "" {
			return nil
		}
		return out
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

// smallClass returns the letters and digits of a class that holds only
// letters and digits, at most max of them once a letter in both cases
// counts once, lower-case ("[pousr]", "[Mm]"), or nil.
func smallClass(re *syntax.Regexp, max int) []string {
	if re.Op != syntax.OpCharClass {
		return nil
	}
	set := map[rune]bool{}
	for i := 0; i+1 < len(re.Rune); i += 2 {
		if re.Rune[i+1]-re.Rune[i] >= rune(2*max) {
			return nil
		}
		for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return nil
			}
			set[r] = true
		}
	}
	// a letter in both cases gives its lower-case form; an upper-case
	// letter alone stays upper-case (no plain head, as "AKIA")
	out := make([]string, 0, len(set))
	for r := range set {
		if l := unicode.ToLower(r); l == r || !set[l] {
			out = append(out, string(r))
		}
	}
	if len(out) == 0 || len(out) > max {
		return nil
	}
	sort.Strings(out)
	return out
}

// cross is every string of a followed by every string of b; a when that
// would be more than max.
func cross(a, b []string, max int) []string {
	if len(a)*len(b) > max {
		return a
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}
