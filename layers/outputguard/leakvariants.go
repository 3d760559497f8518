package outputguard

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/normalize"
)

// Streamed answers are read for the system prompt in more forms than the
// text as sent: with JSON, HTML and URL escapes undone, under ROT13, with
// leetspeak folded, written backwards, and their base64/base32/hex runs
// decoded, also when nested (feedEncoded) — each
// by a reader of its own, so that a prompt streamed in one of these forms
// is counted while it streams, as a whole answer's decoded forms are.
// Zero-width characters and homoglyphs are folded by every reader
// (leakNormal). Each form costs one more pass over the event's text.

// variantReaders are the reading positions of the streamed forms (the
// unescaped text itself is read by leakIndex.r).
type variantReaders struct {
	carry []byte // an escape or a character cut at the end of the last event
	rot   gramReader
	leet  gramReader
	rev   gramReader
}

// maxEscape is the longest escape held over to the next event
// ("\ud83d\ude00" is 12 bytes; "&#x1F600;" 9).
const maxEscape = 12

// feedStream reads released answer text: unescaped (JSON, HTML, URL
// escapes undone; an escape cut by the event's end waits for the next),
// as is, under ROT13, with leetspeak folded and backwards; and its
// base64/base32/hex runs (feedEncoded). It reports whether a leak became likely.
func (lk *leakIndex) feedStream(text string, final bool) bool {
	v := &lk.variants
	s := text
	if len(v.carry) > 0 {
		s = string(v.carry) + text
		v.carry = v.carry[:0]
	}
	cutRune := ""
	if !final {
		// a character cut by the event's end is read with the next event
		k := len(s)
		for k > 0 && len(s)-k < utf8.UTFMax-1 && !utf8.RuneStart(s[k-1]) {
			k--
		}
		if k > 0 && !utf8.FullRuneInString(s[k-1:]) {
			s, cutRune = s[:k-1], s[k-1:]
		}
	}
	u, rest := unescapeLeak(s, final)
	v.carry = append(append(v.carry, rest...), cutRune...)
	n := leakNormal(u)
	lk.readNorm(&lk.r, n, final)
	// ROT13 after normalising: look-alike letters are plain by then
	lk.readNorm(&v.rot, normalize.ROT13(n), final)
	lk.readLeet(&v.leet, n, final)
	lk.readRev(&v.rev, n, final)
	return lk.judge() || lk.feedEncoded(text, final)
}

// leetFold maps a letter, digit or leet symbol to its class in the
// leetspeak comparison (1, l, i, | and ! are one class; 0 and o; 3 and e;
// 4, @ and a; 5, $ and s; 7, + and t; 8 and b; 9 and g), or 0 when r does
// not belong to a word.
func leetFold(r rune) rune {
	if r < utf8.RuneSelf {
		if l := normalize.LeetLetter(byte(r), 'i'); l != 0 {
			r = rune(l)
		}
	}
	switch {
	case r == 'l':
		return 'i'
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return unicode.ToLower(r)
	}
	return 0
}

// leetWordFold is leetFold for the prompt's words: '!', '+' and '|' end
// a word there (punctuation), as in the answer at a word's end.
func leetWordFold(r rune) rune {
	if r == '!' || r == '+' || r == '|' {
		return 0
	}
	return leetFold(r)
}

// readLeet counts the prompt's n-grams, compared in leetspeak classes
// (lk.leetGrams), that norm (normalised text) repeats, reading on from r.
// A '!' or '+' at the end of a word is punctuation, not a letter.
func (lk *leakIndex) readLeet(r *gramReader, norm string, final bool) {
	push := func() {
		w := r.word
		for len(w) > 0 && (w[len(w)-1] == 'i' || w[len(w)-1] == 't') && r.trail > 0 {
			w, r.trail = w[:len(w)-1], r.trail-1
		}
		r.trail = 0
		if len(w) > 0 {
			lk.push(r, lk.leetGrams, w)
		}
	}
	for _, c := range norm {
		f := leetFold(c)
		if f == 0 {
			if len(r.word) > 0 {
				push()
				r.word = r.word[:0]
			}
			continue
		}
		if c == '!' || c == '+' {
			r.trail++
		} else {
			r.trail = 0
		}
		if len(r.word) < 60 {
			r.word = utf8.AppendRune(r.word, f)
		}
	}
	if final && len(r.word) > 0 {
		push()
		r.word = r.word[:0]
	}
}

// unescapeLeak undoes JSON (\uXXXX with surrogate pairs, \n, \t, \", \\, \/),
// HTML (&#NNN;, &#xHH;, &amp; &lt; &gt; &quot; &apos; &nbsp;) and URL
// (%XX) escapes in s. Unless final, an escape that may still be completed
// by the next event is returned as rest (not in out).
func unescapeLeak(s string, final bool) (out, rest string) {
	if !strings.ContainsAny(s, `\&%`) {
		return s, ""
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' && c != '&' && c != '%' {
			b.WriteByte(c)
			i++
			continue
		}
		n, r, ok := escapeAt(s[i:])
		if !ok {
			if !final && len(s)-i <= maxEscape && incomplete(s[i:]) {
				return b.String(), s[i:]
			}
			b.WriteByte(c)
			i++
			continue
		}
		b.WriteString(r)
		i += n
	}
	return b.String(), ""
}

// incomplete reports whether p (starting with an escape character, at the
// end of the text) may be the start of an escape.
func incomplete(p string) bool {
	switch p[0] {
	case '%':
		return len(p) < 3 && (len(p) == 1 || isHexByte(p[1]))
	case '\\':
		if len(p) == 1 {
			return true
		}
		if p[1] != 'u' {
			return false
		}
		return len(p) < 12 // \uXXXX, possibly a pair
	case '&':
		return strings.IndexByte(p, ';') < 0 && len(p) <= 10
	}
	return false
}

func isHexByte(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

var htmlNamed = map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'", "nbsp": " "}

// escapeAt decodes the escape at the start of p: its length and text.
func escapeAt(p string) (int, string, bool) {
	switch p[0] {
	case '%':
		if len(p) >= 3 && isHexByte(p[1]) && isHexByte(p[2]) {
			v, _ := strconv.ParseUint(p[1:3], 16, 8)
			if v < 0x80 {
				return 3, string(rune(v)), true
			}
		}
	case '\\':
		if len(p) < 2 {
			return 0, "", false
		}
		switch p[1] {
		case 'n':
			return 2, "\n", true
		case 't':
			return 2, "\t", true
		case 'r':
			return 2, "\r", true
		case '"', '\\', '/', '\'':
			return 2, p[1:2], true
		case 'u':
			if len(p) < 6 {
				return 0, "", false
			}
			v, err := strconv.ParseUint(p[2:6], 16, 16)
			if err != nil {
				return 0, "", false
			}
			r := rune(v)
			if r >= 0xD800 && r < 0xDC00 {
				if len(p) < 12 || p[6] != '\\' || p[7] != 'u' {
					return 0, "", false
				}
				lo, err := strconv.ParseUint(p[8:12], 16, 16)
				if err != nil || lo < 0xDC00 || lo > 0xDFFF {
					return 0, "", false
				}
				return 12, string(rune((int(r)-0xD800)<<10 | (int(lo) - 0xDC00) + 0x10000)), true
			}
			return 6, string(r), true
		}
	case '&':
		e := strings.IndexByte(p, ';')
		if e < 2 || e > 10 {
			return 0, "", false
		}
		name := p[1:e]
		if name[0] == '#' {
			base, digits := 10, name[1:]
			if len(digits) > 0 && digits[0]|0x20 == 'x' {
				base, digits = 16, digits[1:]
			}
			v, err := strconv.ParseUint(digits, base, 32)
			if err != nil || v > unicode.MaxRune {
				return 0, "", false
			}
			return e + 1, string(rune(v)), true
		}
		if r, ok := htmlNamed[name]; ok {
			return e + 1, r, true
		}
	}
	return 0, "", false
}
