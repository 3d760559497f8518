package detect

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/normalize"
)

// maxVariants bounds how many decoded variants of one text are scanned.
const maxVariants = 16

// maxWholeText is the longest normalised text (bytes) for which whole-text
// variants (ROT13, reversed, leetspeak) are considered.
const maxWholeText = normalize.DefaultMaxWholeText

// decodeVariants appends the decoded variants of text worth scanning: text
// smuggled in tag characters, ROT13 / reversed / leetspeak forms of the
// whole text, and what normalize.Decode finds inside it (base64, base32,
// hex, URL encoding, and whole-text variants of those payloads). Every
// variant is normalised like the text itself.
//
// Whole-text variants exist for any text, so they are kept only when they
// read more like English than the text does (ROT13 of an ordinary prompt is
// gibberish and would only add noise). That test is made first on the words
// of the normalised text, transformed on the fly, so an ordinary prompt
// costs one pass over its words and no variant is built.
func decodeVariants(st *state, text string, out []variant) []variant {
	for _, h := range st.nt.Hidden {
		if h.Kind == normalize.KindTag && h.Decoded != "" && len(out) < maxVariants {
			normalize.NormalizeInto(&st.vt, h.Decoded, normOpts)
			out = append(out, variant{name: "tag-characters", text: st.vt.Norm, start: h.Start, end: h.End})
		}
	}
	norm := st.nt.Norm
	ws := scanWords(norm)
	base := ws.share(ws.plain)
	out = wholeTextVariants(norm, ws, st.nt.OrigLen(), out)
	for _, d := range normalize.Decode(text, normalize.Limits{NestedWholeTextOnly: true}) {
		if len(out) >= maxVariants {
			break
		}
		normalize.NormalizeInto(&st.vt, d.Text, normOpts)
		if wholeText(d.Method) && !moreEnglish(englishness(st.vt.Norm), base) {
			continue
		}
		out = append(out, variant{name: d.Path, text: st.vt.Norm, start: d.Start, end: d.End})
	}
	return out
}

// moreEnglish is the test a whole-text variant must pass to be scanned.
func moreEnglish(variant, base float64) bool { return variant >= 0.2 && variant > base+0.1 }

// wholeTextVariants appends the ROT13, reversed and leetspeak forms of norm
// that pass moreEnglish. They span the whole original text (origLen code
// points).
func wholeTextVariants(norm string, ws wordStats, origLen int, out []variant) []variant {
	if len(norm) > maxWholeText || ws.letters < 8 {
		return out
	}
	base := ws.share(ws.plain)
	add := func(name, text string) {
		if len(out) < maxVariants {
			out = append(out, variant{name: name, text: text, start: 0, end: origLen})
		}
	}
	if moreEnglish(ws.share(ws.rot13), base) {
		add(normalize.MethodROT13, normalize.ROT13(norm))
	}
	if moreEnglish(ws.share(ws.reversed), base) {
		add(normalize.MethodReverse, normalize.Reverse(norm))
	}
	// Leetspeak needs words mixing letters and digits/symbols; one such
	// word ("q3", "mp4") is common in plain text and not worth a variant.
	if normalize.CountLeetWords(norm, 2) >= 2 {
		if v, ok := normalize.DeLeet(norm, 'i'); ok && moreEnglish(englishness(v), base) {
			add(normalize.MethodLeet, v)
		} else if v, ok := normalize.DeLeet(norm, 'l'); ok && moreEnglish(englishness(v), base) {
			add(normalize.MethodLeetL, v)
		}
	}
	return out
}

func wholeText(method string) bool {
	switch method {
	case normalize.MethodROT13, normalize.MethodReverse, normalize.MethodLeet, normalize.MethodLeetL:
		return true
	}
	return false
}

// commonWords are English function words (and a few words every injection
// uses): a text where a fair share of words are among them is readable
// English.
const commonWords = `the be to of and a in that have i it for not on with he as you do at
	this but his by from they we say her she or an will my one all would there their what so up out if
	about who get which go me when make can like no just him know take into your some could them see
	other than then now only its over also after use how our well way want because any these give most us
	is are was were been has had did does am instructions ignore previous system prompt tell print say
	please write answer question text following`

// commonTab is an open-addressing hash table (lookups without a map or
// allocation: this runs on every word of every scanned text) of the common
// words, their ROT13 forms and their reversals, each with the flags saying
// which of the three it is: a word's ROT13 (or reversal) is common exactly
// when the word is the ROT13 (or reversal) of a common word, so one lookup
// of the word answers all three questions.
var commonTab = func() (t [1024]commonEntry) {
	add := func(w string, flag uint8) {
		h := wordHash([]byte(w))
		for t[h].word != "" && t[h].word != w {
			h = (h + 1) & (len(t) - 1)
		}
		t[h].word = w
		t[h].flags |= flag
	}
	for _, w := range strings.Fields(commonWords) {
		add(w, isPlain)
		add(normalize.ROT13(w), isROT13)
		add(normalize.Reverse(w), isReversed)
	}
	return
}()

type commonEntry struct {
	word  string
	flags uint8
}

// commonEntry flags.
const (
	isPlain    = 1 << iota // a common word
	isROT13                // the ROT13 of a common word
	isReversed             // a common word reversed
)

// maxCommonLen is the longest common word ("instructions").
const maxCommonLen = 12

// wordHash is the slot of word b in commonTab: a polynomial hash, which
// scanWords computes in the pass that finds the word.
func wordHash(b []byte) int {
	h := uint32(0)
	for _, c := range b {
		h = h*polyBase + uint32(c)
	}
	return polySlot(h)
}

const polyBase = 0x01000193

func polySlot(h uint32) int { return int(h*0x9e3779b1>>22) & 1023 }

func isCommon(b []byte) bool { return commonFlags(wordHash(b), b)&isPlain != 0 }

// commonFlags returns the flags of b, whose hash slot is h (0: none).
func commonFlags(h int, b []byte) uint8 {
	for ; commonTab[h].word != ""; h = (h + 1) & 1023 {
		if commonTab[h].word == string(b) {
			return commonTab[h].flags
		}
	}
	return 0
}

// maxEnglishWords is how many words englishness looks at.
const maxEnglishWords = 200

// wordStats counts, over the first maxEnglishWords words of a normalised
// text, the words that are common as they are, after ROT13, and reversed.
type wordStats struct {
	words, letters         int
	plain, rot13, reversed int
}

func (w wordStats) share(k int) float64 {
	if w.words == 0 {
		return 0
	}
	return float64(k) / float64(w.words)
}

func scanWords(s string) wordStats {
	var ws wordStats
	for i := 0; i < len(s) && ws.words < maxEnglishWords; {
		for i < len(s) && !letterByte[s[i]] {
			i++
		}
		// the word is hashed in the pass that finds its end
		h := uint32(0)
		j := i
		for ; j < len(s) && letterByte[s[j]]; j++ {
			h = h*polyBase + uint32(s[j])
		}
		if j == i {
			break
		}
		ws.words++
		ws.letters += j - i
		if w := s[i:j]; len(w) <= maxCommonLen {
			if k := polySlot(h); commonTab[k].word != "" {
				f := commonFlags(k, []byte(w))
				ws.plain += int(f & isPlain)
				ws.rot13 += int(f&isROT13) >> 1
				ws.reversed += int(f&isReversed) >> 2
			}
		}
		i = j
	}
	return ws
}

// englishness is the share of (up to maxEnglishWords) words of s that are
// common words.
func englishness(s string) float64 {
	ws := scanWords(s)
	return ws.share(ws.plain)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c == '\'' }

// letterByte is isLetter as a table.
var letterByte = func() (t [256]bool) {
	for c := range t {
		t[c] = isLetter(byte(c))
	}
	return
}()

// reSpaced is a run of at least five letters, each followed by one to
// three separator characters ("I g n o r e  a l l", "i.g.n.o.r.e").
var reSpaced = regexp.MustCompile(`(?:\pL[ .\-_*|/,~+]{1,3}){4,}\pL`)

// spacedSep marks the separator bytes of reSpaced.
var spacedSep = func() (t [256]bool) {
	for _, c := range []byte(" .-_*|/,~+") {
		t[c] = true
	}
	return
}()

// maySpaced is a cheap necessary condition for a reSpaced match: five
// letters (\pL) in a row, each but the last followed by one to three
// separator bytes. Most text has none, and the regex costs far more than
// this. It runs the automaton of spacedNext (spacedRun) only on the
// stretches of text where such a run can be: every byte from the first
// letter of a spaced run to its fifth letter is a separator, a byte of a
// non-ASCII character, or an ASCII letter followed by no ASCII letter
// (spacedByte), at least eight of them in a row (four letters and four
// separators). Ordinary words fail the test at every letter but their last.
func maySpaced(text string) bool {
	const m = 8
	for i := 0; i+m <= len(text); {
		p := i + m - 1
		if !spacedByte(text, p) {
			i = p + 1
			continue
		}
		q := p - 1
		for q >= i && spacedByte(text, q) {
			q--
		}
		if q >= i {
			i = q + 1 // no stretch of m such bytes starts at or before q
			continue
		}
		// text[i:p+1] qualifies: run the automaton from i over the whole
		// stretch and the character after it (the fifth letter)
		e := p + 1
		for e < len(text) && spacedByte(text, e) {
			e++
		}
		if spacedRun(text[i:min(len(text), e+utf8.UTFMax)]) {
			return true
		}
		i = e + 1
	}
	return false
}

// spacedByte reports whether text[p] can lie between the first and the
// fifth letter of a spaced run: a separator, a byte of a multi-byte
// character, or an ASCII letter not followed by another.
func spacedByte(text string, p int) bool {
	switch spacedClass[text[p]] {
	case spClsSep, spClsRune:
		return true
	case spClsLetter:
		return p+1 == len(text) || spacedClass[text[p+1]] != spClsLetter
	}
	return false
}

// spacedRun runs maySpaced's automaton over text, one table lookup per
// ASCII byte; a non-ASCII byte decodes its rune (spacedStep is the same
// automaton written as code, which the tests compare it with).
func spacedRun(text string) bool {
	st := uint8(0)
	for i := 0; i < len(text); i++ {
		n := spacedByteNext[st&31][text[i]]
		if n < spRune {
			st = n
			continue
		}
		// a byte ≥ 0x80: the class of its rune
		r, w := utf8.DecodeRuneInString(text[i:])
		i += w - 1
		cls := spClsOther
		if unicode.IsLetter(r) {
			cls = spClsLetter
		}
		st = spacedNext[int(st)*spClasses+cls]
	}
	return st == spAccept
}

// Byte classes of maySpaced's automaton.
const (
	spClsLetter = iota // an ASCII letter
	spClsSep           // a separator byte of reSpaced
	spClsOther         // any other ASCII byte
	spClsRune          // a byte ≥ 0x80: decode the rune
	spClasses
)

var spacedClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = spClsRune
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			t[c] = spClsLetter
		case spacedSep[c]:
			t[c] = spClsSep
		default:
			t[c] = spClsOther
		}
	}
	return
}()

// spacedState is maySpaced's state: after a letter or not, separators
// since it (4 means four or more) and spaced letters so far (0–3; the
// fourth accepts).
type spacedState struct {
	afterLetter bool
	seps, units int
}

// spacedStep is one step of the automaton (class spClsLetter, spClsSep or
// spClsOther); accept reports a fifth letter of a spaced run.
func spacedStep(s spacedState, cls int) (next spacedState, accept bool) {
	switch cls {
	case spClsLetter:
		if s.afterLetter && s.seps >= 1 && s.seps <= 3 {
			if s.units++; s.units >= 4 {
				return s, true
			}
		} else {
			s.units = 0
		}
		s.afterLetter, s.seps = true, 0
	case spClsSep:
		if s.afterLetter {
			s.seps = min(s.seps+1, 4)
		}
	default:
		s = spacedState{}
	}
	return s, false
}

// spacedIndex numbers the states: 0 is "not after a letter", 1+ the
// others; spAccept is the accepting state.
func spacedIndex(s spacedState) uint8 {
	if !s.afterLetter {
		return 0
	}
	return uint8(1 + s.seps*4 + s.units)
}

// spAccept is the accepting state; it is absorbing (every class leads
// back to it). spRune in spacedByteNext means "decode the rune".
const (
	spAccept = 1 + 5*4
	spRune   = 0x80
)

// spacedNext is the transition table of spacedStep: spacedNext[state *
// spClasses + class].
var spacedNext = func() (t [(spAccept + 1) * spClasses]uint8) {
	states := []spacedState{{}}
	for seps := 0; seps <= 4; seps++ {
		for units := 0; units < 4; units++ {
			states = append(states, spacedState{true, seps, units})
		}
	}
	for _, s := range states {
		for cls := spClsLetter; cls <= spClsOther; cls++ {
			n, acc := spacedStep(s, cls)
			v := spacedIndex(n)
			if acc {
				v = spAccept
			}
			t[int(spacedIndex(s))*spClasses+cls] = v
		}
	}
	for cls := range spClasses {
		t[spAccept*spClasses+cls] = spAccept
	}
	return
}()

// spacedByteNext is spacedNext by byte instead of class: one lookup per
// ASCII byte; spRune for the bytes of a multi-byte rune. (32 rows so that
// st&31 needs no bounds check.)
var spacedByteNext = func() (t [32][256]uint8) {
	for st := 0; st <= spAccept; st++ {
		for c := 0; c < 256; c++ {
			if cls := spacedClass[c]; cls == spClsRune {
				t[st][c] = spRune
			} else {
				t[st][c] = spacedNext[st*spClasses+int(cls)]
			}
		}
	}
	return
}()

// foldSpacedLetters joins the letters of spaced-out runs in text: one
// separator joins letters of a word, two or more separate words, and so
// does a space in a run whose letters are joined by other marks. ok is
// false when text has no such run. (The normaliser collapses repeated
// spaces, so this reads the original text.)
func foldSpacedLetters(text string) (string, bool) {
	if !maySpaced(text) {
		return "", false
	}
	locs := reSpaced.FindAllStringIndex(text, 64)
	if len(locs) == 0 {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, l := range locs {
		// a run starts at a word's start: the last letter of a word
		// followed by a spaced run ("say I g n o r e") is not part of it
		if r, _ := utf8.DecodeLastRuneInString(text[:l[0]]); l[0] > 0 && unicode.IsLetter(r) {
			_, n := utf8.DecodeRuneInString(text[l[0]:])
			l[0] += n
			for l[0] < l[1] && strings.IndexByte(" .-_*|/,~+", text[l[0]]) >= 0 {
				l[0]++
			}
		}
		b.WriteString(text[prev:l[0]])
		run := text[l[0]:l[1]]
		// when letters are joined by a mark other than a space
		// ("i.g.n.o.r.e a.l.l"), a space separates words even alone
		marked := strings.ContainsAny(run, ".-_*|/,~+")
		for i := 0; i < len(run); {
			r, n := utf8.DecodeRuneInString(run[i:])
			if !strings.ContainsRune(" .-_*|/,~+", r) {
				b.WriteString(run[i : i+n])
				i += n
				continue
			}
			j := i
			for j < len(run) && strings.IndexByte(" .-_*|/,~+", run[j]) >= 0 {
				j++
			}
			if j-i >= 2 || (marked && strings.IndexByte(run[i:j], ' ') >= 0) {
				b.WriteByte(' ')
			}
			i = j
		}
		prev = l[1]
	}
	b.WriteString(text[prev:])
	return b.String(), true
}
