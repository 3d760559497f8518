package normalize

import (
	"unicode/utf8"
)

// Kind classifies a Finding: something Normalize removed, replaced or
// neutralised because it can hide text from a scanner or a reader.
type Kind uint8

// Finding kinds. Zero is never used.
const (
	// KindZeroWidth: U+200B–U+200D, U+2060–U+2064, U+FEFF, U+180E (removed).
	KindZeroWidth Kind = iota + 1
	// KindBidi: bidi embeddings/overrides/isolates/marks U+200E, U+200F,
	// U+202A–U+202E, U+2066–U+2069, U+061C (removed).
	KindBidi
	// KindTag: tag characters U+E0000–U+E007F (removed). They can smuggle
	// ASCII; Finding.Decoded holds the ASCII they spell.
	KindTag
	// KindVariationSelector: U+FE00–U+FE0F, U+E0100–U+E01EF, U+180B–U+180D, U+180F (removed).
	KindVariationSelector
	// KindSoftHyphen: U+00AD (removed).
	KindSoftHyphen
	// KindFiller: blank-looking letters — Hangul fillers U+115F, U+1160,
	// U+3164, U+FFA0 and Braille blank U+2800 — replaced by a space, so words
	// they separate stay separate.
	KindFiller
	// KindFormat: any other format (Cf) or default-ignorable code point
	// (e.g. U+034F, U+2065–U+206F, U+FFF9–U+FFFB, U+1D173–U+1D17A) (removed).
	KindFormat
	// KindControl: C0/C1 control characters other than whitespace (removed).
	KindControl
	// KindCombining: three or more combining marks stacked on one base
	// character ("zalgo" text). The marks are removed on Latin, Greek and
	// Cyrillic bases unless Options.KeepMarks.
	KindCombining
	// KindSpecialToken: a chat-template control token such as <|im_start|>
	// or [INST] found in the normalised text. Finding.Decoded holds the token
	// as it appears in Text.Norm.
	KindSpecialToken
	// KindTruncated: output budget (Options.MaxOutput) or input budget
	// (Options.MaxInput) exhausted; text from Start on was not normalised.
	KindTruncated
)

var kindNames = [...]string{
	KindZeroWidth:         "zero-width",
	KindBidi:              "bidi-control",
	KindTag:               "tag-characters",
	KindVariationSelector: "variation-selector",
	KindSoftHyphen:        "soft-hyphen",
	KindFiller:            "filler",
	KindFormat:            "format",
	KindControl:           "control",
	KindCombining:         "combining-marks",
	KindSpecialToken:      "special-token",
	KindTruncated:         "truncated",
}

// String returns a stable, lower-case name for the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// Finding records something hidden or neutralised. Start and End are
// code-point (rune) offsets into the original text, End exclusive. Adjacent
// characters of the same kind are merged into one finding; Count says how
// many characters (or tokens) it covers.
type Finding struct {
	Kind       Kind
	Start, End int
	Count      int
	// Decoded is the ASCII smuggled by tag characters (KindTag, at most
	// MaxTagText bytes per finding) or the token text (KindSpecialToken).
	Decoded string
}

// MaxTagText bounds Finding.Decoded for KindTag findings.
const MaxTagText = 4096

// Defaults for Options fields left at zero.
const (
	DefaultMaxInput    = 4 << 20 // bytes of input normalised; the rest is reported as truncated
	DefaultMaxFindings = 256
)

// Options tunes Normalize. The zero value is the recommended full
// normalisation used by the detector.
type Options struct {
	// KeepCase disables case folding.
	KeepCase bool
	// NoSkeleton disables the confusables (homoglyph) mapping and diacritic
	// stripping; NFKC and invisible-character removal still apply.
	NoSkeleton bool
	// KeepMarks keeps combining marks on Latin, Greek and Cyrillic letters
	// (by default they are dropped so "ïgnörè" matches "ignore").
	KeepMarks bool
	// KeepNewlines makes a whitespace run that contains a line break collapse
	// to "\n" instead of " ", for rules anchored at line starts.
	KeepNewlines bool
	// MaxInput is how many bytes of input are normalised (default
	// DefaultMaxInput). Longer input is cut at a rune boundary and a
	// KindTruncated finding is added.
	MaxInput int
	// MaxOutput bounds len(Text.Norm) in bytes (default: 4×input + 1024;
	// NFKC can expand one code point to 18). On overflow the output is cut
	// and a KindTruncated finding is added.
	MaxOutput int
	// MaxFindings bounds len(Text.Hidden) (default DefaultMaxFindings);
	// further findings are only counted in Stats.DroppedFindings.
	MaxFindings int
	// NoSpecialTokens skips reporting chat-template tokens in Hidden.
	NoSpecialTokens bool
}

// Stats counts what Normalize changed.
type Stats struct {
	NonASCII        int // non-ASCII code points in the (possibly truncated) input
	Removed         int // invisible/format/control code points removed
	Confusables     int // code points replaced through the confusables table
	Marks           int // combining marks dropped
	DroppedFindings int // findings beyond Options.MaxFindings
}

// Text is the result of Normalize: the normalised string, a byte-wise map
// back to the original, and what was hidden.
type Text struct {
	// Norm is the normalised text (valid UTF-8).
	Norm string
	// Hidden lists what was removed or neutralised, in original order
	// except special tokens, which follow the character findings.
	Hidden []Finding
	Stats  Stats
	// Truncated is set when MaxInput or MaxOutput cut the text.
	Truncated bool

	origRunes int
	// starts[i], ends[i]: original code-point span that produced Norm[i];
	// unused when lazy (ASCII fast path, see ascii.go), where shifts and
	// wides encode the same map.
	starts, ends []int32
	lazy         bool
	shifts       []shift
	wides        []wide
	buf          []byte
	opt          Options
	maxOut       int
	tagBuf       []byte    // ASCII decoded from tag characters
	tagSpans     []tagSpan // which part of tagBuf belongs to which finding
	inWS         bool
	stripBase    bool // last emitted base letter is Latin/Greek/Cyrillic
}

// OrigLen returns the number of code points of the original text that were
// normalised (the whole text unless Truncated by MaxInput).
func (t *Text) OrigLen() int { return t.origRunes }

// OrigSpan maps a byte span [normStart, normEnd) of t.Norm to the span of
// code points in the original text that produced it. Out-of-range or
// reversed arguments are clamped; the result always satisfies
// 0 ≤ start ≤ end ≤ t.OrigLen(). Characters removed inside the span are
// included; removed characters at its edges are not.
func (t *Text) OrigSpan(normStart, normEnd int) (start, end int) {
	n := len(t.Norm)
	if normStart < 0 {
		normStart = 0
	}
	if normStart > n {
		normStart = n
	}
	if normEnd > n {
		normEnd = n
	}
	if normEnd < normStart {
		normEnd = normStart
	}
	if normStart == n {
		if n == 0 {
			return 0, 0
		}
		e := t.endAt(n - 1)
		return e, e
	}
	start = t.startAt(normStart)
	if normEnd == normStart {
		return start, start
	}
	end = t.endAt(normEnd - 1)
	if end < start {
		end = start
	}
	return start, end
}

// OrigRuneSpan is OrigSpan for a span given in code points of t.Norm.
func (t *Text) OrigRuneSpan(normRuneStart, normRuneEnd int) (start, end int) {
	bs, be := runeToByte(t.Norm, normRuneStart), runeToByte(t.Norm, normRuneEnd)
	return t.OrigSpan(bs, be)
}

func runeToByte(s string, r int) int {
	if r <= 0 {
		return 0
	}
	i := 0
	for i < len(s) && r > 0 {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, sz := utf8.DecodeRuneInString(s[i:])
			i += sz
		}
		r--
	}
	return i
}

// Normalize returns the normalised form of s. It never panics; invalid UTF-8
// bytes are treated as U+FFFD (one code point each).
func Normalize(s string, opt Options) *Text {
	t := new(Text)
	NormalizeInto(t, s, opt)
	return t
}

// NormalizeInto is Normalize writing into t, reusing its buffers (t.Hidden's
// backing array too). Callers that normalise many texts can keep one Text
// per goroutine (or in a sync.Pool) to avoid allocation; Norm is always a
// fresh string, so it stays valid after t is reused.
func NormalizeInto(t *Text, s string, opt Options) {
	t.reset(s, opt)
	maxIn := opt.MaxInput
	if maxIn <= 0 {
		maxIn = DefaultMaxInput
	}
	cut := -1
	if len(s) > maxIn {
		c := maxIn
		for c > 0 && !utf8.RuneStart(s[c]) {
			c--
		}
		s = s[:c]
		cut = c
	}
	if isPlainASCII(s) {
		t.asciiPath(s)
	} else {
		t.prepareEager(len(s))
		t.unicodePath(s)
	}
	if cut >= 0 && !t.Truncated {
		t.Truncated = true
		t.addFinding(Finding{Kind: KindTruncated, Start: t.origRunes, End: t.origRunes, Count: 1})
	}
	t.Norm = string(t.buf)
	t.flushTags()
	if !opt.NoSpecialTokens && hasTokenStart(t.Norm) {
		t.reportSpecialTokens()
	}
}

func (t *Text) reset(s string, opt Options) {
	t.Norm = ""
	t.Hidden = t.Hidden[:0]
	t.Stats = Stats{}
	t.Truncated = false
	t.origRunes = 0
	t.tagBuf = t.tagBuf[:0]
	t.tagSpans = t.tagSpans[:0]
	t.opt = opt
	t.inWS = false
	t.stripBase = false
	t.maxOut = opt.MaxOutput
	if t.maxOut <= 0 {
		t.maxOut = 4*len(s) + 1024
	}
	want := len(s) + 16
	if want > t.maxOut {
		want = t.maxOut
	}
	if cap(t.buf) < want {
		t.buf = make([]byte, 0, want)
	} else {
		t.buf = t.buf[:0]
	}
	t.lazy = false
	t.starts, t.ends = t.starts[:0], t.ends[:0]
}

// addFinding appends f, merging it into the previous finding when it is of
// the same kind and adjacent (or overlapping) in the original. It returns
// the index of the finding f went into, or -1 when MaxFindings dropped it.
func (t *Text) addFinding(f Finding) int {
	if n := len(t.Hidden); n > 0 {
		last := &t.Hidden[n-1]
		if last.Kind == f.Kind && f.Start <= last.End && f.Start >= last.Start &&
			f.Kind != KindSpecialToken && f.Kind != KindTruncated {
			if f.End > last.End {
				last.End = f.End
			}
			last.Count += f.Count
			return n - 1
		}
	}
	maxF := t.opt.MaxFindings
	if maxF <= 0 {
		maxF = DefaultMaxFindings
	}
	if len(t.Hidden) >= maxF {
		t.Stats.DroppedFindings++
		return -1
	}
	t.Hidden = append(t.Hidden, f)
	return len(t.Hidden) - 1
}

// truncate stops output at the current position.
func (t *Text) truncate(origPos int) {
	if t.Truncated {
		return
	}
	t.Truncated = true
	t.addFinding(Finding{Kind: KindTruncated, Start: origPos, End: origPos, Count: 1})
}

// emitByte appends one ASCII byte mapped to original span [s, e).
func (t *Text) emitByte(b byte, s, e int) bool {
	if len(t.buf)+1 > t.maxOut {
		t.truncate(s)
		return false
	}
	t.buf = append(t.buf, b)
	t.starts = append(t.starts, int32(s))
	t.ends = append(t.ends, int32(e))
	t.inWS = false
	return true
}

// emitRune appends r mapped to original span [s, e).
func (t *Text) emitRune(r rune, s, e int) bool {
	if r < utf8.RuneSelf {
		return t.emitByte(byte(r), s, e)
	}
	n := utf8.RuneLen(r)
	if n < 0 {
		r, n = utf8.RuneError, 3
	}
	if len(t.buf)+n > t.maxOut {
		t.truncate(s)
		return false
	}
	t.buf = utf8.AppendRune(t.buf, r)
	for i := 0; i < n; i++ {
		t.starts = append(t.starts, int32(s))
		t.ends = append(t.ends, int32(e))
	}
	t.inWS = false
	return true
}

// emitSpace handles one whitespace character at original span [s, e):
// the first of a run emits a space, later ones extend its span.
func (t *Text) emitSpace(newline bool, s, e int) bool {
	if t.inWS && len(t.buf) > 0 {
		t.ends[len(t.ends)-1] = int32(e)
		if newline && t.opt.KeepNewlines {
			t.buf[len(t.buf)-1] = '\n'
		}
		return true
	}
	b := byte(' ')
	if newline && t.opt.KeepNewlines {
		b = '\n'
	}
	if !t.emitByte(b, s, e) {
		return false
	}
	t.inWS = true
	t.stripBase = false
	return true
}
