package rules

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveFirst is litIndex.first by definition.
func naiveFirst(s string, lits []string) int {
	first := -1
	for _, l := range lits {
		if i := strings.Index(s, l); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

func TestLitIndex(t *testing.T) {
	sets := [][]string{
		{"a"}, {"ab", "b"}, {"ignore", "ignoring", "skip", "the", "t"}, {"x\u00e9", "\u00e9", "\xff"},
		{"your answer", "your reply", "in", "to"}, {"::", ":", "\n"},
	}
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Rules {
		if p := leadingPrefixes(r.Regex); p != nil {
			sets = append(sets, p)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, set := range sets {
		x := newLitIndex(set)
		alpha := append([]string{" ", "a", "t", "é", "\xff", ":", "\n", "x"}, set...)
		for _, l := range set {
			alpha = append(alpha, l[:len(l)/2], l[len(l)/2:])
		}
		for k := 0; k < 500; k++ {
			var b strings.Builder
			for n := rng.IntN(30); n > 0; n-- {
				b.WriteString(alpha[rng.IntN(len(alpha))])
			}
			text := b.String()
			for i := 0; i <= len(text); i++ {
				if got, want := x.first(text[i:]), naiveFirst(text[i:], set); got != want {
					t.Fatalf("%q in %q: %d, want %d", set, text[i:], got, want)
				}
			}
		}
	}
}
