package normalize

import (
	"encoding/base32"
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxAttempts bounds decode attempts per Decode call. Attempts are already
// bounded by text length / MinRun per scanned text; this is a backstop.
const maxAttempts = 1024

type spanFunc func(a, b int) (int, int)

// Byte classes as a table, for the per-byte loops over whole texts.
const (
	bAlnum       = 1 << iota // A-Z a-z 0-9
	bBase64                  // the base64 std and URL alphabets without '='
	bHexSeqStart             // what may start a hex byte sequence: a hex digit or '\\'
	bHexSeq                  // what a hex byte sequence is made of (see scanHexSeq)
)

var byteClass = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		if isAlnum(c) {
			t[i] |= bAlnum | bBase64
		}
		if c == '+' || c == '/' || c == '-' || c == '_' {
			t[i] |= bBase64
		}
		if isHexDigit(c) || c == '\\' {
			t[i] |= bHexSeqStart | bHexSeq
		}
		switch c {
		case 'x', 'X', ' ', ',', ':', ';':
			t[i] |= bHexSeq
		}
	}
	return
}()

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// runFeatures describes a maximal run of base64-alphabet characters.
type runFeatures struct {
	upper, lower, digit int
	std, url            bool // saw + or /; saw - or _
	nonHex, nonB32Upper int  // characters outside those alphabets
	nonB32Lower         int
	b32digit            bool // saw 2–7
}

// scanRuns finds maximal runs of [A-Za-z0-9+/_-] (plus '=' padding) and
// decodes those that fit base64, base32 or contiguous hex. Runs shorter than
// MinRun are never decoded, so the scan skips over text MinRun bytes at a
// time (nextRun); ordinary prose, whose runs are words, is read at a
// fraction of its bytes.
func (d *decoder) scanRuns(job decodeJob, span spanFunc) {
	s := job.text
	minRun := d.lim.MinRun
	for i, j := 0, 0; ; {
		i, j = nextRun(s, i, minRun, bBase64)
		if i < 0 {
			return
		}
		k := j
		for k < len(s) && s[k] == '=' && k-j < 6 {
			k++
		}
		run := s[i:j]
		d.tryRun(job, span, run, runFeaturesOf(run), i, k)
		i = k
	}
}

// nextRun returns the next maximal run s[p:e] of at least m bytes of
// class cls (byteClass bits) that begins at or after i, where s[i-1] (if
// any) is outside the class; p is -1 when there is none. It looks at the
// last byte of each m-byte stretch first: when that one is outside the
// class, no run of m bytes overlaps the stretch and the search moves m bytes
// on; otherwise it reads back from there to the stretch's start.
func nextRun(s string, i, m int, cls uint8) (p, e int) {
	if m < 1 {
		m = 1
	}
	for i+m <= len(s) {
		last := i + m - 1
		if byteClass[s[last]]&cls == 0 {
			i = last + 1
			continue
		}
		q := last - 1
		for q >= i && byteClass[s[q]]&cls != 0 {
			q--
		}
		if q < i {
			// s[i:i+m] is in the class: the run goes on from there
			e := i + m
			for e < len(s) && byteClass[s[e]]&cls != 0 {
				e++
			}
			return i, e
		}
		i = q + 1 // no run of m bytes starts at or before q
	}
	return -1, -1
}

// runFeaturesOf describes a run of base64-alphabet characters (only runs
// long enough to be decoded are described).
func runFeaturesOf(run string) runFeatures {
	var f runFeatures
	for j := 0; j < len(run); j++ {
		switch c := run[j]; {
		case 'A' <= c && c <= 'Z':
			f.upper++
			f.nonB32Lower++
			if c > 'F' {
				f.nonHex++
			}
		case 'a' <= c && c <= 'z':
			f.lower++
			f.nonB32Upper++
			if c > 'f' {
				f.nonHex++
			}
		case '0' <= c && c <= '9':
			f.digit++
			if c >= '2' && c <= '7' {
				f.b32digit = true
			} else {
				f.nonB32Upper++
				f.nonB32Lower++
			}
		case c == '+' || c == '/':
			f.std = true
			f.nonHex++
			f.nonB32Upper++
			f.nonB32Lower++
		default: // '-' or '_'
			f.url = true
			f.nonHex++
			f.nonB32Upper++
			f.nonB32Lower++
		}
	}
	return f
}

func (d *decoder) tryRun(job decodeJob, span spanFunc, run string, f runFeatures, from, to int) {
	// hex: only hex digits, even length, at least one digit; 0x prefix allowed.
	hexRun := run
	if len(hexRun) > 2 && hexRun[0] == '0' && (hexRun[1] == 'x' || hexRun[1] == 'X') && f.nonHex == 1 {
		hexRun = hexRun[2:]
		f.nonHex = 0
	}
	if f.nonHex == 0 && f.digit > 0 && len(hexRun)%2 == 0 && d.try() {
		b := make([]byte, len(hexRun)/2)
		for i := range b {
			b[i] = unhex(hexRun[2*i])<<4 | unhex(hexRun[2*i+1])
		}
		if plausibleText(b) {
			a, e := span(from, to)
			d.emit(job, MethodHex, string(b), a, e, false)
			return
		}
	}
	// base32: upper-case alphabet A–Z 2–7 (or all lower-case with a digit).
	if (f.nonB32Upper == 0 && f.upper > 0) || (f.nonB32Lower == 0 && f.lower > 0 && f.b32digit) {
		if n := len(run) % 8; n != 1 && n != 3 && n != 6 && d.try() {
			b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(run))
			if err == nil && plausibleText(b) {
				a, e := span(from, to)
				d.emit(job, MethodBase32, string(b), a, e, false)
				return
			}
		}
	}
	// base64: both cases present (as in any base64 of text), one alphabet.
	if f.upper > 0 && f.lower > 0 && !(f.std && f.url) {
		r := run
		if len(r)%4 == 1 {
			r = r[:len(r)-1]
		}
		if !d.try() {
			return
		}
		enc, method := base64.RawStdEncoding, MethodBase64
		if f.url {
			enc, method = base64.RawURLEncoding, MethodBase64URL
		}
		b, err := enc.DecodeString(r)
		if err == nil && plausibleText(b) {
			a, e := span(from, to)
			d.emit(job, method, string(b), a, e, false)
		}
	}
}

// scanHexSeq decodes separated hex byte sequences: "\\x69\\x67…",
// "0x69, 0x67, …", "69 67 6e …" (at least 8 bytes).
//
// A decoded sequence is made of hex digits, 'x' or 'X' prefixes, '\\' and
// the separators ' ', ',', ':' and ';' only (class bHexSeq), and spans more
// than two bytes per decoded byte: at least minHexSeqSpan bytes. Only runs
// of that class that long are read (nextRun); the rest of the text cannot
// hold one.
func (d *decoder) scanHexSeq(job decodeJob, span spanFunc) {
	s := job.text
	var buf []byte
	for from, to := 0, 0; ; {
		from, to = nextRun(s, from, minHexSeqSpan, bHexSeq)
		if from < 0 {
			return
		}
		var ok bool
		if buf, ok = d.scanHexSeqRun(job, span, s, from, to, buf); !ok {
			return
		}
		from = to
	}
}

// minHexSeqSpan is the fewest bytes a sequence scanHexSeq decodes spans:
// more than two per decoded byte, of which there are at least 8.
const minHexSeqSpan = 2*8 + 1

// scanHexSeqRun is scanHexSeq's search at the starts i in [from, to) (a
// maximal run of class bHexSeq; the sequences it finds lie within it). ok
// is false when the attempt budget ran out.
func (d *decoder) scanHexSeqRun(job decodeJob, span spanFunc, s string, from, to int, buf []byte) (_ []byte, ok bool) {
	for i := from; i < to; i++ {
		if byteClass[s[i]]&bHexSeqStart == 0 || i > 0 && byteClass[s[i-1]]&bAlnum != 0 {
			continue
		}
		buf = buf[:0]
		j := i
		last := i
		for j < len(s) {
			k := j
			if k+1 < len(s) && (s[k] == '\\' || s[k] == '0') && (s[k+1] == 'x' || s[k+1] == 'X') {
				k += 2
			}
			if k+1 >= len(s) || !isHexDigit(s[k]) || !isHexDigit(s[k+1]) || (k+2 < len(s) && isAlnum(s[k+2]) && s[k] != '\\' && k == j) {
				break
			}
			buf = append(buf, unhex(s[k])<<4|unhex(s[k+1]))
			k += 2
			last = k
			if k < len(s) && (s[k] == ' ' || s[k] == ',' || s[k] == ':' || s[k] == ';') {
				k++
				if k < len(s) && s[k] == ' ' {
					k++
				}
			}
			j = k
		}
		if len(buf) >= 8 && last-i > 2*len(buf) { // separators or prefixes present
			if !d.try() {
				return buf, false
			}
			if plausibleText(buf) {
				a, e := span(i, last)
				d.emit(job, MethodHex, string(buf), a, e, false)
			}
			i = last - 1
		}
	}
	return buf, true
}

// scanURL decodes whitespace-delimited runs containing at least two %XX
// escapes.
func (d *decoder) scanURL(job decodeJob, span spanFunc) {
	s := job.text
	for i := 0; i < len(s); {
		// Only a run holding a '%' can hold an escape: go to the next
		// '%' and back to the start of its run (not before i, which
		// starts a run or is whitespace before one).
		p := strings.IndexByte(s[i:], '%')
		if p < 0 {
			return
		}
		from := i
		i += p
		for i > from && !isURLSpace(s[i-1]) {
			i--
		}
		j, esc := i, 0
		for j < len(s) && !isURLSpace(s[j]) {
			if s[j] == '%' && j+2 < len(s) && isHexDigit(s[j+1]) && isHexDigit(s[j+2]) {
				esc++
			}
			j++
		}
		if esc >= 2 && d.try() {
			b := make([]byte, 0, j-i)
			for k := i; k < j; k++ {
				if s[k] == '%' && k+2 < j && isHexDigit(s[k+1]) && isHexDigit(s[k+2]) {
					b = append(b, unhex(s[k+1])<<4|unhex(s[k+2]))
					k += 2
					continue
				}
				b = append(b, s[k])
			}
			if plausibleText(b) {
				a, e := span(i, j)
				d.emit(job, MethodURL, string(b), a, e, false)
			}
		}
		i = j
	}
}

// isURLSpace reports the bytes that delimit the runs scanURL decodes.
func isURLSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// plausibleText reports whether b decodes to text a person could have
// written: valid UTF-8, at least 4 characters, no more than 1 in 20
// non-whitespace control characters, at least half letters/digits/spaces,
// and at least one letter.
func plausibleText(b []byte) bool {
	if len(b) < 4 || !utf8.Valid(b) {
		return false
	}
	var n, bad, alnum, letters int
	for i := 0; i < len(b); {
		r, sz := rune(b[i]), 1
		if r >= utf8.RuneSelf {
			r, sz = utf8.DecodeRune(b[i:])
		}
		i += sz
		n++
		switch {
		case r == ' ' || r == '\n' || r == '\t' || r == '\r':
			alnum++
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == utf8.RuneError:
			bad++
		case r < utf8.RuneSelf:
			if isAlnum(byte(r)) {
				alnum++
				if r > '9' {
					letters++
				}
			}
		case unicode.IsLetter(r):
			letters++
			alnum++
		case unicode.IsDigit(r):
			alnum++
		case !unicode.IsPrint(r):
			bad++
		}
	}
	return n >= 4 && bad*20 <= n && alnum*2 >= n && letters > 0
}
