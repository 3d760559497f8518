package normalize

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The ASCII fast path. Pure-ASCII input maps output byte k to original
// code point k+delta, where delta (≥ 0) grows by one for every character
// dropped (control characters, whitespace merged into a run), and to the
// span [k+delta, k+delta+1) except for a collapsed whitespace run, whose
// byte spans the whole run. So instead of two int32 per byte the path
// records only where delta changes (shifts) and the ends of collapsed runs
// (wides); startAt/endAt compute the per-byte span from them.

// SWAR constants: one in every byte, high bit of every byte.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// shift: from output byte out on, delta is the given value.
type shift struct{ out, delta int32 }

// wide: output byte out (a collapsed whitespace run) ends at end.
type wide struct{ out, end int32 }

// load64 reads s[:8] little-endian (the compiler merges the loads into one).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// isPlainASCII reports whether s is entirely ASCII, which makes NFKC, the
// skeleton and invisible-character handling no-ops.
func isPlainASCII(s string) bool {
	i := 0
	for ; i+16 <= len(s); i += 16 {
		if (load64(s[i:])|load64(s[i+8:]))&msb != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiPath normalises pure-ASCII input: drop controls, fold case, collapse
// whitespace. Original rune offset == byte offset.
func (t *Text) asciiPath(s string) {
	t.origRunes = len(s)
	if t.maxOut < len(s) || len(s) > 1<<30 {
		// Output may be cut: the general, eagerly mapped emitters.
		t.prepareEager(len(s))
		for i := 0; i < len(s); i++ {
			if !t.asciiByte(s[i], i) {
				return
			}
		}
		return
	}
	// Output never exceeds input, so write straight into a buffer of
	// len(s); offsets are kept lazily (shifts, wides).
	t.lazy = true
	t.shifts, t.wides = t.shifts[:0], t.wides[:0]
	if cap(t.shifts) == 0 {
		t.shifts, t.wides = make([]shift, 0, 32), make([]wide, 0, 32)
	}
	if cap(t.buf) < len(s) {
		t.buf = make([]byte, len(s))
	}
	buf := t.buf[:len(s)]
	fold := !t.opt.KeepCase
	keepNL := t.opt.KeepNewlines
	n, i := 0, 0
	delta := int32(0) // i - n
	inWS := false
	for i < len(s) {
		if i+8 <= len(s) {
			// Eight bytes at once: fold A–Z, and find the first byte that
			// is not copied 1:1 (a control or whitespace other than ' ', a
			// DEL, or a space continuing a whitespace run). All bytes are
			// ASCII, so no per-byte arithmetic below carries into the next.
			w, bad, sp := asciiWord(load64(s[i:]), inWS, fold)
			binary.LittleEndian.PutUint64(buf[n:], w) // n ≤ i, so n+8 ≤ len(buf)
			if bad == 0 {
				n += 8
				i += 8
				inWS = sp>>63 != 0
				continue
			}
			if k := bits.TrailingZeros64(bad) >> 3; k > 0 {
				n += k
				i += k
				inWS = s[i-1] == ' '
			}
		}
		c := s[i]
		i++
		if c <= ' ' || c == 0x7F {
			switch c {
			case ' ', '\t', '\n', '\r', '\v', '\f':
				nl := keepNL && c != ' ' && c != '\t'
				if !inWS {
					buf[n] = ' '
					if nl {
						buf[n] = '\n'
					}
					n++
					inWS = true
					continue
				}
				if nl {
					buf[n-1] = '\n'
				}
				t.widen(n-1, i)
			default:
				t.Stats.Removed++
				t.addFinding(Finding{Kind: KindControl, Start: i - 1, End: i, Count: 1})
			}
			delta++
			t.shiftAt(n, delta)
			continue
		}
		if fold && c-'A' < 26 {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
		inWS = false
	}
	t.buf = buf[:n]
	t.inWS = inWS
}

// shiftAt records that output bytes from out on have the given delta.
func (t *Text) shiftAt(out int, delta int32) {
	if k := len(t.shifts); k > 0 && t.shifts[k-1].out == int32(out) {
		t.shifts[k-1].delta = delta
		return
	}
	t.shifts = append(t.shifts, shift{int32(out), delta})
}

// widen records that output byte out ends at original offset end.
func (t *Text) widen(out, end int) {
	if k := len(t.wides); k > 0 && t.wides[k-1].out == int32(out) {
		t.wides[k-1].end = int32(end)
		return
	}
	t.wides = append(t.wides, wide{int32(out), int32(end)})
}

// startAt returns the original start offset of output byte k.
func (t *Text) startAt(k int) int {
	if !t.lazy {
		return int(t.starts[k])
	}
	// Last shift with out ≤ k.
	lo, hi := 0, len(t.shifts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(t.shifts[m].out) <= k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return k
	}
	return k + int(t.shifts[lo-1].delta)
}

// endAt returns the original end offset of output byte k.
func (t *Text) endAt(k int) int {
	if !t.lazy {
		return int(t.ends[k])
	}
	lo, hi := 0, len(t.wides)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(t.wides[m].out) < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.wides) && int(t.wides[lo].out) == k {
		return int(t.wides[lo].end)
	}
	return t.startAt(k) + 1
}

// prepareEager readies the per-byte offset arrays used by every path but
// the lazy ASCII one.
func (t *Text) prepareEager(inLen int) {
	t.lazy = false
	want := inLen + 16
	if want > t.maxOut {
		want = t.maxOut
	}
	if cap(t.starts) < want {
		t.starts = make([]int32, 0, want)
		t.ends = make([]int32, 0, want)
	} else {
		t.starts = t.starts[:0]
		t.ends = t.ends[:0]
	}
}

// asciiWord examines eight ASCII bytes w (little-endian) for the
// word-at-a-time paths: it returns w with A–Z folded to a–z when fold is
// set, the mask (high bit of each byte) of the bytes that are not copied
// one to one — a control character (tabs and line breaks included), DEL,
// or a space that continues a whitespace run (inWS: the byte before w was
// whitespace) — and the mask of the spaces. All bytes are ASCII, so no
// per-byte arithmetic carries into the next byte.
func asciiWord(w uint64, inWS, fold bool) (out, bad, sp uint64) {
	ctl := (^(w + 0x60*lsb) | (w + lsb)) & msb // < 0x20 or == 0x7F
	x := w ^ 0x20*lsb
	sp = ^((x + 0x7F*lsb) | x) & msb // == ' '
	bad = ctl | sp&(sp<<8)
	if inWS {
		bad |= sp & 0x80
	}
	if fold {
		up := (w + 0x3F*lsb) &^ (w + 0x25*lsb) & msb // 'A'..'Z'
		w |= up >> 2
	}
	return w, bad, sp
}
