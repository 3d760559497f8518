package detect

import (
	"math/rand"
	"strings"
	"testing"
)

// refWordSaladScan is a frozen copy of wordSaladScan as it was before it
// learnt to skip the rest of a line once a list is introduced; the tests
// below check that wordSaladScan finds exactly what it finds.
func refWordSaladScan(text string) (start, end int, ok bool) {
	var ring [wordSaladRun]wsTok
	n := 0                    // consecutive words in the ring (a mark or number resets it)
	nf, nc, ncap := 0, 0, 0   // in the last wordSaladRun words
	lineWords, lineFn := 0, 0 // words and function words on this line so far
	listed := false           // a list was introduced on this line
	i := 0
	for i < len(text) {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		if i < len(text) && (text[i] == '\n' || text[i] == '\r') {
			n, nf, nc, ncap, lineWords, lineFn, listed = 0, 0, 0, 0, 0, 0, false
			i++
			continue
		}
		if i >= len(text) {
			break
		}
		a := i
		for i < len(text) && !isSpaceByte(text[i]) {
			i++
		}
		ca, cb, isWord, fn, comma, stop, colon, capital := saladWord(text[a:i])
		if colon {
			listed = true // "...: a b c": a list follows
		}
		if !isWord {
			// a number or a mark ends a run
			n, nf, nc, ncap = 0, 0, 0, 0
			if strings.ContainsAny(text[a:i], ":=") || text[a:i] == "-" || text[a:i] == "—" {
				listed = true
			}
			continue
		}
		if !fn && cb-ca >= 4 && listWord(text[a+ca:a+cb]) {
			listed = true // "these words", "the following", "tags"
		}
		slot := n % wordSaladRun
		if n >= wordSaladRun {
			old := ring[slot]
			nf -= b2i(old.fn)
			nc -= b2i(old.comma || old.stop)
			ncap -= b2i(old.capital)
		}
		ring[slot] = wsTok{a: a, b: i, ca: a + ca, cb: a + cb, fn: fn, comma: comma, stop: stop, capital: capital}
		nf += b2i(fn)
		nc += b2i(comma || stop)
		ncap += b2i(capital)
		n++
		lineWords++
		lineFn += b2i(fn)
		if n < wordSaladRun || listed || nf > 1 || nc > 1 || 2*ncap > wordSaladRun {
			continue
		}
		before, fnBefore := lineWords-wordSaladRun, lineFn-nf
		if before < wordSaladPre || 4*fnBefore < before {
			continue
		}
		var win [wordSaladRun]wsTok
		for k := range win {
			win[k] = ring[(n+k)%wordSaladRun]
		}
		if saladRunOdd(text, win[:]) {
			return win[0].a, win[len(win)-1].b, true
		}
	}
	return 0, 0, false
}

func checkWordSaladRef(t *testing.T, s string) {
	t.Helper()
	a, b, ok := wordSaladScan(s)
	ra, rb, rok := refWordSaladScan(s)
	if a != ra || b != rb || ok != rok {
		t.Fatalf("wordSaladScan(%q) = %d, %d, %v; the reference says %d, %d, %v", s, a, b, ok, ra, rb, rok)
	}
}

func TestWordSaladMatchesReference(t *testing.T) {
	texts := append(append([]string{}, wordSaladTP...), wordSaladFP...)
	for _, s := range wordSaladTP {
		texts = append(texts, "Note: "+s, "list these words: x\n"+s, s+"\r\n"+s, "tags: a b c\n"+s)
	}
	for _, s := range texts {
		checkWordSaladRef(t, s)
	}
	// random lines from the salad samples' words, function words and marks
	var vocab []string
	for _, s := range texts {
		vocab = append(vocab, strings.Fields(s)...)
	}
	vocab = append(vocab, "the", "of", "and", ":", "-", "=", "these", "words", "following", "\n", "\r", "x:", "a,", "b.", "Tags", "42")
	rng := rand.New(rand.NewSource(13))
	for k := 0; k < 3000; k++ {
		var b strings.Builder
		for n := rng.Intn(60); n > 0; n-- {
			b.WriteString(vocab[rng.Intn(len(vocab))])
			b.WriteString([]string{" ", " ", " ", "\t", "\n", "  "}[rng.Intn(6)])
		}
		checkWordSaladRef(t, b.String())
	}
}

func FuzzWordSaladMatchesReference(f *testing.F) {
	for _, s := range append(append([]string{}, wordSaladTP...), wordSaladFP...) {
		f.Add(s)
		f.Add("Note: " + s + "\n" + s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkWordSaladRef(t, s) })
}

// hasCodeMark is the search for each code mark in turn.
func TestHasCodeMark(t *testing.T) {
	check := func(s string) {
		want := false
		for _, m := range codeMarks {
			want = want || strings.Contains(s, m)
		}
		if got := hasCodeMark(s); got != want {
			t.Fatalf("hasCodeMark(%q) = %v, want %v", s, got, want)
		}
	}
	alpha := []string{"a", "x", "(", ")", "{", "}", "[", "]", ":", "=", "\"", "'", "_", "-", ">", "&", "|", "+", "é", "\xff"}
	for _, m := range codeMarks {
		check(m)
		check("x" + m + "y")
		alpha = append(alpha, m)
	}
	rng := rand.New(rand.NewSource(17))
	for k := 0; k < 20000; k++ {
		var b strings.Builder
		for n := rng.Intn(8); n > 0; n-- {
			b.WriteString(alpha[rng.Intn(len(alpha))])
		}
		check(b.String())
	}
}
