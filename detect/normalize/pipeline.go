package normalize

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

type tagSpan struct{ finding, from, to int }

// asciiByte handles one ASCII character at original rune offset pos.
func (t *Text) asciiByte(c byte, pos int) bool {
	switch asciiClass[c] {
	case asciiSpace:
		return t.emitSpace(false, pos, pos+1)
	case asciiBreak:
		return t.emitSpace(true, pos, pos+1)
	case asciiControl:
		t.Stats.Removed++
		t.addFinding(Finding{Kind: KindControl, Start: pos, End: pos + 1, Count: 1})
		return true
	}
	if !t.opt.KeepCase && 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	t.stripBase = true
	return t.emitByte(c, pos, pos+1)
}

// asciiRun is asciiByte on every byte of the ASCII run s, whose first byte
// is at original rune offset pos, without a call per byte: eight bytes at
// a time when they are all copied one to one (as in asciiPath), the others
// with asciiByte's rules inlined. When the output budget could run out
// within the run, every byte goes through asciiByte (which truncates where
// the budget ends).
func (t *Text) asciiRun(s string, pos int) {
	if len(t.buf)+len(s) > t.maxOut {
		for k := 0; k < len(s) && !t.Truncated; k++ {
			t.asciiByte(s[k], pos+k)
		}
		return
	}
	// The run emits at most one byte per input byte: make room for all
	// (starts and ends always have the length of buf).
	n := len(t.buf)
	buf := slices.Grow(t.buf, len(s))[:n+len(s)]
	st := slices.Grow(t.starts, len(s))[:n+len(s)]
	en := slices.Grow(t.ends, len(s))[:n+len(s)]
	fold, keepNL := !t.opt.KeepCase, t.opt.KeepNewlines
	inWS, stripBase := t.inWS, t.stripBase
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Eight bytes copied one to one unless one is a control
			// (tabs and line breaks included), a DEL or a space that
			// continues a whitespace run. The run has emitted at most i
			// bytes, so n+8 ≤ len(buf).
			w, bad, _ := asciiWord(load64(s[i:]), inWS, fold)
			binary.LittleEndian.PutUint64(buf[n:], w)
			p := int32(pos + i)
			sb, eb := (*[8]int32)(st[n:n+8]), (*[8]int32)(en[n:n+8])
			sb[0], sb[1], sb[2], sb[3], sb[4], sb[5], sb[6], sb[7] = p, p+1, p+2, p+3, p+4, p+5, p+6, p+7
			eb[0], eb[1], eb[2], eb[3], eb[4], eb[5], eb[6], eb[7] = p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8
			k := 8
			if bad != 0 {
				k = bits.TrailingZeros64(bad) >> 3
			}
			if k > 0 {
				n += k
				i += k
				inWS = s[i-1] == ' '
				stripBase = !inWS
				continue
			}
		}
		c, p := s[i], int32(pos+i)
		i++
		switch asciiClass[c] {
		case asciiPlain:
			if fold && c-'A' < 26 {
				c += 'a' - 'A'
			}
			buf[n], st[n], en[n] = c, p, p+1
			n++
			inWS, stripBase = false, true
		case asciiSpace, asciiBreak: // as emitSpace
			nl := keepNL && asciiClass[c] == asciiBreak
			if inWS && n > 0 {
				en[n-1] = p + 1
				if nl {
					buf[n-1] = '\n'
				}
				continue
			}
			buf[n], st[n], en[n] = ' ', p, p+1
			if nl {
				buf[n] = '\n'
			}
			n++
			inWS, stripBase = true, false
		default: // a control character: removed
			t.Stats.Removed++
			t.addFinding(Finding{Kind: KindControl, Start: int(p), End: int(p) + 1, Count: 1})
		}
	}
	t.buf, t.starts, t.ends = buf[:n], st[:n], en[:n]
	t.inWS, t.stripBase = inWS, stripBase
}

// Classes of ASCII bytes, as asciiByte and asciiRun treat them.
const (
	asciiPlain = iota
	asciiSpace // ' ', '\t'
	asciiBreak // '\n', '\r', '\v', '\f'
	asciiControl
)

var asciiClass = func() (c [utf8.RuneSelf]uint8) {
	for b := range c {
		switch {
		case b == ' ' || b == '\t':
			c[b] = asciiSpace
		case b == '\n' || b == '\r' || b == '\v' || b == '\f':
			c[b] = asciiBreak
		case b < 0x20 || b == 0x7F:
			c[b] = asciiControl
		}
	}
	return c
}()

// unicodePath normalises input that contains non-ASCII bytes. ASCII
// characters not followed by non-ASCII are handled directly; every other
// stretch (up to the next ASCII byte, which is always a normalisation
// boundary) goes through an NFKC iterator segment by segment, and each
// segment's output maps to the segment's original code-point span.
func (t *Text) unicodePath(s string) {
	var it norm.Iter
	rpos := 0
	i := 0
	for i < len(s) && !t.Truncated {
		if s[i] < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf) {
			// the ASCII run up to the last byte before a non-ASCII one
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf {
				j++
			}
			if j < len(s) {
				j--
			}
			t.asciiRun(s[i:j], rpos)
			rpos += j - i
			i = j
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= utf8.RuneSelf {
			j++
		}
		it.InitString(norm.NFKC, s[i:j])
		for !it.Done() && !t.Truncated {
			p := it.Pos()
			seg := it.Next()
			q := it.Pos()
			n := utf8.RuneCountInString(s[i+p : i+q])
			if n == 0 {
				// A long decomposition (ﬁ → f,i; U+FDFA → 18 runes) is
				// returned piecewise before the input position moves: the
				// piece comes from the character at rpos.
				t.segment(seg, rpos, rpos+1)
				continue
			}
			t.segment(seg, rpos, rpos+n)
			rpos += n
		}
		i = j
	}
	if t.Truncated {
		rpos = utf8.RuneCountInString(s)
	}
	t.origRunes = rpos
}

// segment handles the NFKC output of one normalisation segment whose
// original code points are [rs, re).
func (t *Text) segment(seg []byte, rs, re int) {
	marks := 0
	for k := 0; k < len(seg) && !t.Truncated; {
		r, sz := rune(seg[k]), 1
		if r >= utf8.RuneSelf {
			r, sz = utf8.DecodeRune(seg[k:])
		}
		k += sz
		if r < utf8.RuneSelf {
			t.asciiByte(byte(r), rs)
			// asciiByte maps to [rs, rs+1); widen to the whole segment.
			t.widenLast(rs, re)
			continue
		}
		t.Stats.NonASCII++
		t.nonASCII(r, rs, re, &marks)
	}
	if marks >= 3 {
		t.addFinding(Finding{Kind: KindCombining, Start: rs, End: re, Count: marks})
	}
}

// widenLast sets the span of the bytes of the last emitted character to
// [rs, re) when it was emitted from the current segment.
func (t *Text) widenLast(rs, re int) {
	n := len(t.ends)
	if n > 0 && int(t.starts[n-1]) == rs && int(t.ends[n-1]) < re {
		t.ends[n-1] = int32(re)
	}
}

// nonASCII handles one non-ASCII code point of NFKC output.
func (t *Text) nonASCII(r rune, rs, re int, marks *int) {
	if unicode.IsSpace(r) {
		t.emitSpace(isLineBreak(r), rs, re)
		return
	}
	if k := invisibleKind(r); k != 0 {
		t.hide(k, r, rs, re)
		return
	}
	if isMark(r) {
		*marks++
		if !t.opt.KeepMarks && !t.opt.NoSkeleton && t.stripBase {
			t.Stats.Marks++
			return
		}
		t.emitRune(r, rs, re)
		return
	}
	// The skeleton is looked up before folding (TR39 maps Greek capital Ν
	// to N but small ν to v), then again after folding.
	if !t.opt.NoSkeleton && t.emitConfusable(r, rs, re) {
		return
	}
	if !t.opt.KeepCase {
		if r == 'ß' || r == 'ẞ' {
			t.emitByte('s', rs, re)
			t.emitByte('s', rs, re)
			t.stripBase = true
			return
		}
		r = foldRune(r)
	}
	if t.opt.NoSkeleton {
		t.stripBase = strippableBase(r)
		t.emitRune(r, rs, re)
		return
	}
	if r >= utf8.RuneSelf && t.emitConfusable(r, rs, re) {
		return
	}
	if r < utf8.RuneSelf { // folded to ASCII (ſ → s, ı → i, K → k)
		t.stripBase = true
		t.emitByte(byte(r), rs, re)
		return
	}
	if strippableBase(r) && !t.opt.KeepMarks {
		t.stripBase = true
		var b [utf8.UTFMax]byte
		n := utf8.EncodeRune(b[:], r)
		if d := norm.NFD.Properties(b[:n]).Decomposition(); d != nil {
			for len(d) > 0 {
				dr, sz := utf8.DecodeRune(d)
				d = d[sz:]
				if isMark(dr) {
					t.Stats.Marks++
					continue
				}
				if !t.opt.KeepCase {
					dr = foldRune(dr)
				}
				if dr >= utf8.RuneSelf && t.emitConfusable(dr, rs, re) {
					continue
				}
				t.emitRune(dr, rs, re)
			}
			return
		}
		t.emitRune(r, rs, re)
		return
	}
	t.stripBase = false
	t.emitRune(r, rs, re)
}

// emitConfusable replaces r by its ASCII confusable prototype, if any.
func (t *Text) emitConfusable(r rune, rs, re int) bool {
	proto, ok := lookupConfusable(r)
	if !ok {
		return false
	}
	t.Stats.Confusables++
	for i := 0; i < len(proto); i++ {
		c := proto[i]
		if !t.opt.KeepCase && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if !t.emitByte(c, rs, re) {
			return true
		}
	}
	t.stripBase = true
	return true
}

// hide records a removed (or, for fillers, blanked) character.
func (t *Text) hide(k Kind, r rune, rs, re int) {
	t.Stats.Removed++
	idx := t.addFinding(Finding{Kind: k, Start: rs, End: re, Count: 1})
	if k == KindFiller {
		t.emitSpace(false, rs, re)
	}
	if k != KindTag || idx < 0 || r < 0xE0020 || r > 0xE007E {
		return
	}
	// Tag characters U+E0020–U+E007E mirror ASCII 0x20–0x7E.
	if n := len(t.tagSpans); n > 0 && t.tagSpans[n-1].finding == idx {
		sp := &t.tagSpans[n-1]
		if sp.to-sp.from < MaxTagText {
			t.tagBuf = append(t.tagBuf, byte(r-0xE0000))
			sp.to++
		}
		return
	}
	t.tagSpans = append(t.tagSpans, tagSpan{finding: idx, from: len(t.tagBuf), to: len(t.tagBuf) + 1})
	t.tagBuf = append(t.tagBuf, byte(r-0xE0000))
}

// flushTags stores the decoded tag text in the findings.
func (t *Text) flushTags() {
	for _, sp := range t.tagSpans {
		t.Hidden[sp.finding].Decoded = string(t.tagBuf[sp.from:sp.to])
	}
}
