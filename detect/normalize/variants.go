package normalize

import (
	"strings"
	"unicode/utf8"
)

// minWholeLetters: whole-text variants are produced only for texts with at
// least this many ASCII letters or digits (ROT13/reverse of "ok" tells
// nothing).
const minWholeLetters = 8

// wholeText produces the ROT13, reversed and leetspeak variants of job.text.
func (d *decoder) wholeText(job decodeJob, span spanFunc) {
	s := job.text
	letters := 0
	for i := 0; i < len(s) && letters < minWholeLetters; i++ {
		if isAlnum(s[i]) {
			letters++
		}
	}
	if letters < minWholeLetters {
		return
	}
	a, e := span(0, len(s))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !d.lim.NoROT13 && d.budget >= len(s) {
		d.emit(job, MethodROT13, rot13(s), a, e, true)
	}
	if !d.lim.NoReverse && d.budget >= len(s) {
		d.emit(job, MethodReverse, reverseRunes(s), a, e, true)
	}
	if !d.lim.NoLeet && d.budget >= len(s) {
		if v, ok := deLeet(s, 'i'); ok {
			d.emit(job, MethodLeet, v, a, e, true)
			if hasLeetOne(s) && d.budget >= len(s) {
				if v2, ok := deLeet(s, 'l'); ok {
					d.emit(job, MethodLeetL, v2, a, e, true)
				}
			}
		}
	}
}

// ROT13 rotates ASCII letters by 13; everything else is unchanged.
func ROT13(s string) string { return rot13(s) }

func rot13(s string) string {
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
			c = 'a' + (c-'a'+13)%26
		case 'A' <= c && c <= 'Z':
			c = 'A' + (c-'A'+13)%26
		}
		b[i] = c
	}
	return string(b)
}

// reverseRunes reverses s code point by code point (invalid bytes become
// U+FFFD).
func reverseRunes(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := len(s); i > 0; {
		r, sz := utf8.DecodeLastRuneInString(s[:i])
		i -= sz
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// LeetLetter is the letter leetspeak writes as c ('0' → 'o', '@' → 'a',
// '|' → 'l', ...; one for '1'), or 0 when c is not a leet symbol.
func LeetLetter(c byte, one byte) byte { return leetLetter(c, one) }

// leetMap maps leetspeak digits/symbols to letters ('1' is chosen by the
// caller).
func leetLetter(c byte, one byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1':
		return one
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7', '+':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	case '!':
		return 'i'
	case '|':
		return 'l'
	}
	return 0
}

// maxLeetWord: longer "words" are identifiers or encoded runs.
const maxLeetWord = 24

func isLeetSym(c byte) bool { return leetLetter(c, 'i') != 0 }

// leetWord reports whether w (a run of letters, digits and leet symbols)
// mixes letters with leet characters: at least one letter and one leet
// character, the word not being a plain number. Trailing ! (punctuation)
// does not count.
func leetWord(w string) bool {
	if len(w) > maxLeetWord {
		return false // encoded runs (base64 …), not words
	}
	letters, leet := 0, 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z':
			letters++
		case isLeetSym(c):
			if (c == '!' || c == '+' || c == '|') && (i == 0 || i == len(w)-1) {
				continue
			}
			leet++
		}
	}
	return letters > 0 && leet > 0
}

// leetClass classifies bytes for leetRuns: 0 outside words, 1 for letters
// and digits that are not leet symbols, 2 for leet symbols.
var leetClass = func() (t [256]uint8) {
	for c := range t {
		switch b := byte(c); {
		case isLeetSym(b):
			t[c] = 2
		case isAlnum(b):
			t[c] = 1
		}
	}
	return
}()

// leetRuns calls fn for every word (maximal run of ASCII letters, digits
// and leet symbols) of s that contains a leet symbol (no other word can be
// a leetWord).
func leetRuns(s string, fn func(from, to int)) {
	for i := 0; i < len(s); {
		if leetClass[s[i]] == 0 {
			i++
			continue
		}
		j, cls := i, uint8(0)
		for j < len(s) && leetClass[s[j]] != 0 {
			cls |= leetClass[s[j]]
			j++
		}
		if cls&2 != 0 {
			fn(i, j)
		}
		i = j
	}
}

// deLeet translates leetspeak inside words that mix letters with digits or
// symbols; other words (plain numbers, ordinary words) are unchanged. ok is
// false when no word qualified.
func deLeet(s string, one byte) (string, bool) {
	var b []byte
	leetRuns(s, func(from, to int) {
		w := s[from:to]
		if !leetWord(w) {
			return
		}
		if b == nil {
			b = []byte(s)
		}
		for k := 0; k < len(w); k++ {
			c := w[k]
			if (c == '!' || c == '+' || c == '|') && (k == 0 || k == len(w)-1) {
				continue
			}
			if l := leetLetter(c, one); l != 0 {
				b[from+k] = l
			}
		}
	})
	if b == nil {
		return "", false
	}
	return string(b), true
}

// hasLeetOne reports whether a leet word contains '1'.
func hasLeetOne(s string) bool {
	found := false
	leetRuns(s, func(from, to int) {
		if !found && leetWord(s[from:to]) {
			for k := from; k < to; k++ {
				if s[k] == '1' {
					found = true
					return
				}
			}
		}
	})
	return found
}

// Reverse reverses s code point by code point (invalid bytes become U+FFFD),
// as the "reverse" whole-text variant does.
func Reverse(s string) string { return reverseRunes(s) }

// DeLeet is the "leet" whole-text variant: leetspeak is translated inside
// words that mix letters with digits or symbols ('1' becomes one, 'i' or
// 'l'); ok is false when no word qualified.
func DeLeet(s string, one byte) (string, bool) { return deLeet(s, one) }

// CountLeetWords counts the words of s that mix letters with leetspeak
// digits or symbols (the words DeLeet would translate), stopping at max.
// Only a word holding a leet symbol can count: the scan goes from one leet
// symbol to the next and reads the word around each.
func CountLeetWords(s string, max int) int {
	n := 0
	for i := 0; i < len(s) && n < max; {
		p := i
		for p < len(s) && leetClass[s[p]] != 2 {
			p++
		}
		if p == len(s) {
			break
		}
		// the word around p: s[i-1] (if any) ends the previous one
		from, j := p, p+1
		for from > i && leetClass[s[from-1]] != 0 {
			from--
		}
		for j < len(s) && leetClass[s[j]] != 0 {
			j++
		}
		if leetWord(s[from:j]) {
			n++
		}
		i = j
	}
	return n
}
