package tokens

import (
	"unicode"
	"unicode/utf8"
)

// Estimate returns an estimate of the number of tokens text has for model
// (under the encoding EncodingFor names), in one pass over the bytes and
// without the vocabulary: a few µs for 2 KB of ASCII text instead of about
// 300 µs for Count (BenchmarkEstimate2KB, BenchmarkCount2KB). Admission
// control (rate limits, budgets) charges the estimate and corrects it with
// the token count the upstream reports when the answer ends; rules that
// need an exact figure (a hard cap on the prompt's size) use Count.
//
// The estimate is a weighted sum of counts that follow tiktoken's
// pre-tokenisation: words (letter runs), letters past the sixth of a word,
// groups of up to three digits, punctuation bytes and runs, line-break
// runs, whitespace runs other than one space before a word, CJK
// characters, other non-ASCII characters, inner capitals and case or
// letter/digit changes (see features). The weights, one set per encoding,
// were fitted by tools/tokfit on the train split of data/injection; the
// error is measured on its dev split and the repository's documentation
// (TestEstimateError; docs/PERFORMANCE.md, "Token estimate"). The result
// is at most len(text), and at least 1 for non-empty text.
func Estimate(model, text string) int {
	if text == "" {
		return 0
	}
	f := features(text)
	var est float64
	for i, w := range estimateWeights[EncodingFor(model)] {
		est += w * f[i]
	}
	n := int(est + 0.5)
	if n < 1 && text != "" {
		n = 1
	}
	if n > len(text) { // every token covers at least one byte
		n = len(text)
	}
	return n
}

// Feature indexes of features.
const (
	fWords      = iota // letter runs (ASCII and non-CJK letters), contractions included
	fLongTail          // letters past the sixth of each word
	fDigits            // digit tokens: one per (up to) three digits of a run
	fPunct             // punctuation and symbol bytes
	fPunctRuns         // runs of punctuation and symbols
	fBreaks            // line break runs
	fSpaceRuns         // whitespace runs other than one space before a word
	fCJK               // Han, Hiragana, Katakana, Hangul characters
	fOtherRune         // other non-ASCII characters (accented and non-Latin letters, symbols, emoji)
	fUpperInner        // upper-case ASCII letters that do not start a word (acronyms, base32, base64)
	fSwitches          // lower→upper case changes and letter↔digit changes (base64, hex, identifiers)
	numFeatures
)

// estimateWeights are the per-feature token costs for each encoding,
// fitted by tools/tokfit on data/injection/train.jsonl (13,636 texts).
var estimateWeights = map[string]*[numFeatures]float64{
	CL100K: {fWords: 1.046, fLongTail: 0.043, fDigits: 0.917, fPunct: 0.044, fPunctRuns: 0.626,
		fBreaks: 0.355, fSpaceRuns: 0.958, fCJK: 1.177, fOtherRune: 0.418, fUpperInner: 0.174, fSwitches: 0.704},
	O200K: {fWords: 1.026, fLongTail: 0.049, fDigits: 0.931, fPunct: 0.044, fPunctRuns: 0.654,
		fBreaks: 0.380, fSpaceRuns: 0.945, fCJK: 0.831, fOtherRune: 0.149, fUpperInner: 0.167, fSwitches: 0.653},
}

// byte classes of ASCII.
const (
	cOther = iota
	cLetter
	cDigit
	cSpace
	cBreak
	cPunct
)

var asciiClass = func() (t [128]byte) {
	for b := 0; b < 128; b++ {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z':
			t[b] = cLetter
		case b >= '0' && b <= '9':
			t[b] = cDigit
		case b == '\n' || b == '\r':
			t[b] = cBreak
		case b == ' ' || b == '\t' || b == '\v' || b == '\f':
			t[b] = cSpace
		default:
			t[b] = cPunct // punctuation, symbols and control characters
		}
	}
	return t
}()

// Features returns the counts Estimate weighs, for tools/tokfit.
func Features(text string) [numFeatures]float64 { return features(text) }

// NumFeatures is the length of Features' result.
const NumFeatures = numFeatures

func features(s string) (f [numFeatures]float64) {
	var (
		words, longTail, digitToks, punctBytes, punctRuns int
		breaks, spaceRuns, cjk, other, upper, switches    int
		word, digits, space                               int  // current run lengths
		prev                                              byte = cBreak
		prevByte                                          byte
	)
	for i := 0; i < len(s); {
		b := s[i]
		var c byte = cOther
		size := 1
		if b < utf8.RuneSelf {
			c = asciiClass[b]
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			switch {
			case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
				cjk++
			case unicode.IsLetter(r):
				c = cLetter
				other++
			default:
				other++
			}
		}
		if c != prev {
			// A run ends.
			switch prev {
			case cLetter:
				words++
				if word > 6 {
					longTail += word - 6
				}
				word = 0
			case cDigit:
				digitToks += (digits + 2) / 3
				digits = 0
			case cSpace:
				if space > 1 || s[i-1] != ' ' || c != cLetter {
					spaceRuns++
				}
				space = 0
			}
		}
		switch c {
		case cLetter:
			if b >= 'A' && b <= 'Z' && word > 0 {
				upper++
				if prevByte >= 'a' && prevByte <= 'z' {
					switches++
				}
			}
			if prev == cDigit {
				switches++
			}
			word++
			// Fast path: the lower-case ASCII letters that follow.
			j := i + size
			for j < len(s) && s[j]-'a' < 26 {
				j++
			}
			if n := j - (i + size); n > 0 {
				word += n
				prev, prevByte = c, s[j-1]
				i = j
				continue
			}
		case cDigit:
			if prev == cLetter {
				switches++
			}
			digits++
		case cPunct:
			punctBytes++
			// A new run, except for the apostrophe of a contraction
			// ("it's": tiktoken's "'s" is one token with the letters).
			if prev != cPunct && !(b == '\'' && prev == cLetter && i+1 < len(s) && s[i+1] < utf8.RuneSelf && asciiClass[s[i+1]] == cLetter) {
				punctRuns++
			}
		case cBreak:
			if prev != cBreak {
				breaks++
			}
		case cSpace:
			space++
		}
		prev, prevByte = c, b
		i += size
	}
	switch prev { // the last run
	case cLetter:
		words++
		if word > 6 {
			longTail += word - 6
		}
	case cDigit:
		digitToks += (digits + 2) / 3
	case cSpace:
		spaceRuns++
	}
	f[fWords], f[fLongTail], f[fDigits], f[fPunct], f[fPunctRuns] = float64(words), float64(longTail), float64(digitToks), float64(punctBytes), float64(punctRuns)
	f[fBreaks], f[fSpaceRuns], f[fCJK], f[fOtherRune] = float64(breaks), float64(spaceRuns), float64(cjk), float64(other)
	f[fUpperInner], f[fSwitches] = float64(upper), float64(switches)
	return f
}
