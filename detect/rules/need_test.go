package rules

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// describe renders a need for the table test.
func (n *need) describe() string {
	if n == nil {
		return "nil"
	}
	switch {
	case n.lits != nil:
		return fmt.Sprint(n.lits)
	case n.seq != nil:
		var p []string
		for _, s := range n.seq {
			p = append(p, s.describe())
		}
		return "seq(" + strings.Join(p, " ") + ")"
	}
	var p []string
	for _, s := range n.alt {
		p = append(p, s.describe())
	}
	return "alt(" + strings.Join(p, " | ") + ")"
}

func TestNeedOf(t *testing.T) {
	for expr, want := range map[string]string{
		`abc`: "[abc]",
		`\bignore\W+(?:\w+\W+){0,3}?(?:rules|instructions?)\b`: "seq([ignore] [rules instruction])",
		`(?:god|evil) mode\b`:             "[god mode evil mode]",
		`x*y`:                             "[y]",
		`x*`:                              "nil",
		`(?i)ignore`:                      "nil",
		`a|b*`:                            "nil",
		`(?:ab|cd)\s+ef|gh`:               "alt(seq([ab cd] [\t \n \f \r  ] [ef]) | [gh])",
		`(?:the |my )?(?:typos?|errors?)`: "[typo error]",
		`(?:x+y){2,}z`:                    "seq(seq([x] [y]) [z])",
		`[a-c]+foo`:                       "seq([a b c] [foo])",
		"a\uFFFDb":                        "nil",
		`(?:a|aa|ba)q`:                    "[aq]",
	} {
		if got := needOf(expr).describe(); got != want {
			t.Errorf("%s: %s, want %s", expr, got, want)
		}
	}
}

// TestNeedSound: on text assembled from the rules' own literals (so that
// the regexes match often, and often nearly), find with the need check
// gives exactly what the regex gives on its own, and the check does reject
// windows (it is worth having).
func TestNeedSound(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var pieces []string
	var walk func(n *need)
	walk = func(n *need) {
		if n == nil {
			return
		}
		pieces = append(pieces, n.lits...)
		for _, m := range n.seq {
			walk(m)
		}
		for _, m := range n.alt {
			walk(m)
		}
	}
	for _, r := range s.Rules {
		walk(r.need)
		for _, tp := range r.TP {
			pieces = append(pieces, strings.Fields(prep(tp))...)
		}
	}
	pieces = append(pieces, "the", "a", "and", "of", ",", ".", ":", "\"", "x1")
	rng := rand.New(rand.NewPCG(5, 6))
	rejected, matched := 0, 0
	for i := 0; i < 4000; i++ {
		var b strings.Builder
		for n := 1 + rng.IntN(14); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			b.WriteString([]string{" ", " ", "", "\n", ", "}[rng.IntN(5)])
		}
		text := b.String()
		for _, r := range s.Rules {
			if r.re == nil {
				continue // co-occurrence rule
			}
			got, want := r.find(text), r.re.FindStringIndex(text)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s on %q: find %v, regex %v", r.ID, text, got, want)
			}
			if want != nil {
				matched++
			}
			if q := r.firstStart(text); q >= 0 && r.need != nil {
				if _, ok := r.need.meets(text, q); !ok {
					rejected++
				}
			}
		}
	}
	if rejected == 0 || matched == 0 {
		t.Errorf("need rejected %d windows, regexes matched %d", rejected, matched)
	}
	with, regexRules := 0, 0
	for _, r := range s.Rules {
		if r.re == nil {
			continue // co-occurrence rule
		}
		regexRules++
		if r.need != nil {
			with++
		}
	}
	if with < regexRules*3/4 {
		t.Errorf("only %d of %d regex rules have a need", with, regexRules)
	}
}

// TestNeedExact: patterns whose needs nest (alternatives inside sequences,
// sets cut short by their shorter members) on texts where the regex just
// matches or just fails.
func TestNeedExact(t *testing.T) {
	for expr, texts := range map[string][]string{
		`(?:a\s+b|cdefgh\s+i)\s+z`:                                   {"a b z cdefgh i", "cdefgh i z", "a b cdefgh i z", "a b y", "z a b"},
		`\b(?:ignore|skip)\W+(?:all|the)\W+(?:rules|instructions)\b`: {"skip the rules", "ignore all the rules", "ignore rules all", "rules skip the", "skip theinstructions", "skip the instruction"},
		`(?:xy|xyz)(?:zq|q)`:                                         {"xyzq", "xyq", "xzq", "qxy", "xyzzq"},
		"x\uFFFDy|x[\uFFF0-\uFFFF]z":                                 {"x\xffy", "x\xfez", "x\uFFFDy", "xy"},
		"\uFFFDy|[\uFFF0-\uFFFF]z":                                   {"a\xffy", "\xfez", "\uFFFDy", "y"},
		`(?:abc|b)c+d`:                                               {"abccd", "bcd", "abcd", "bd", "ab cd"},
	} {
		re := regexp.MustCompile(expr)
		r := &Rule{re: re}
		r.pre, r.need = filtersOf(expr)
		for _, text := range texts {
			for i := 0; i <= len(text); i++ {
				w := text[i:]
				if got, want := r.find(w), re.FindStringIndex(w); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s on %q: find %v, regex %v", expr, w, got, want)
				}
			}
		}
	}
}

// FuzzNeedSound: on any text, a rule's filtered search (leading prefixes,
// required literals, then RE2) finds exactly what its regex finds alone.
// Seeded from the rules' true- and false-positive samples.
func FuzzNeedSound(f *testing.F) {
	s, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range s.Rules {
		for _, tp := range r.TP {
			f.Add(prep(tp))
		}
		for _, fp := range r.FP {
			f.Add(prep(fp))
		}
	}
	f.Add("x\xffy ignore\uFFFD all")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			return
		}
		for _, r := range s.Rules {
			if r.re == nil {
				continue // co-occurrence rule
			}
			if got, want := r.find(text), r.re.FindStringIndex(text); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s on %q: find %v, regex %v", r.ID, text, got, want)
			}
		}
	})
}
