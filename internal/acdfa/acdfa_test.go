package acdfa

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// walkBoth returns what the automaton and the library report on text.
func walkBoth(a *Automaton, trie *ahocorasick.Trie, text string) (got, want string) {
	var g, w []int
	Walk(a, text, func(end, n, p int) { g = append(g, end, n, p) })
	trie.Walk([]byte(text), func(end, n, p int64) bool {
		w = append(w, int(end), int(n), int(p))
		return true
	})
	return fmt.Sprint(g), fmt.Sprint(w)
}

// Random pattern sets (nested, overlapping, repeated, non-ASCII) and texts
// glued from their pieces: the same occurrences in the same order as the
// library, for strings and byte slices, and Contains agrees.
func TestMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	alpha := []string{"a", "b", "ab", "ba", "é", "中", " ", "x", "aa"}
	for set := 0; set < 200; set++ {
		var pats []string
		for i := rng.IntN(30) + 1; i > 0; i-- {
			var b strings.Builder
			for k := rng.IntN(6) + 1; k > 0; k-- {
				b.WriteString(alpha[rng.IntN(len(alpha))])
			}
			pats = append(pats, b.String())
		}
		a, err := New(pats)
		if err != nil {
			t.Fatal(err)
		}
		trie := ahocorasick.NewTrieBuilder().AddStrings(pats).Build()
		for k := 0; k < 20; k++ {
			var b strings.Builder
			for b.Len() < 60 {
				if rng.IntN(2) == 0 {
					p := pats[rng.IntN(len(pats))]
					b.WriteString(p[:rng.IntN(len(p)+1)])
				} else {
					b.WriteString(alpha[rng.IntN(len(alpha))])
				}
			}
			text := b.String()
			got, want := walkBoth(a, trie, text)
			if got != want {
				t.Fatalf("patterns %q, text %q:\n got %s\nwant %s", pats, text, got, want)
			}
			var gb []int
			Walk(a, []byte(text), func(end, n, p int) { gb = append(gb, end, n, p) })
			if fmt.Sprint(gb) != got {
				t.Fatalf("[]byte walk %v, string walk %s", gb, got)
			}
			if c := Contains(a, text); c != (want != "[]") {
				t.Fatalf("Contains(%q) = %v with %s", text, c, want)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New([]string{"a", ""}); err == nil {
		t.Error("empty pattern accepted")
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if _, err := New([]string{string(all)}); err == nil {
		t.Error("256 distinct bytes accepted")
	}
	if _, err := New([]string{strings.Repeat("ab", 40000)}); err == nil {
		t.Error("over 65,536 states accepted")
	}
	a, err := New([]string{string(all[1:])})
	if err != nil {
		t.Fatal(err)
	}
	if !Contains(a, "x"+string(all[1:])) || Contains(a, string(all[2:])) {
		t.Error("255 distinct bytes: wrong matches")
	}
}

func FuzzMatchesLibrary(f *testing.F) {
	f.Add("he,she,his,hers", "ushers")
	f.Add("a,ab,bab,bc,bca,c,caa", "abccab")
	f.Add("中文,文,é", "中文é")
	f.Fuzz(func(t *testing.T, patterns, text string) {
		var pats []string
		for _, p := range strings.Split(patterns, ",") {
			if p != "" {
				pats = append(pats, p)
			}
		}
		if len(pats) == 0 || len(patterns) > 2000 {
			return
		}
		a, err := New(pats)
		if err != nil {
			return // more than 255 distinct bytes
		}
		trie := ahocorasick.NewTrieBuilder().AddStrings(pats).Build()
		if got, want := walkBoth(a, trie, text); got != want {
			t.Fatalf("patterns %q, text %q:\n got %s\nwant %s", pats, text, got, want)
		}
	})
}
