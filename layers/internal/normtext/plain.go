package normtext

import (
	"encoding/binary"
	"unsafe"
)

// Word-at-a-time constants (bit twiddling hacks: haszero/hasless).
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// PlainASCII reports whether s is printable ASCII plus tab, LF and CR.
// Both shared normalisations of such text only fold case (Folded) and
// collapse whitespace runs (to " ", or "\n" when they hold a line break):
// its words and every other non-space byte stay as they are. Layers use
// this to decide on the raw text that a segment needs no normalisation.
//
// It reads sixteen bytes per step (two 64-bit loads); a byte below 0x20
// other than tab, LF or CR is rare and checked byte by byte.
func PlainASCII(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+16 <= len(b); i += 16 {
		w0 := binary.LittleEndian.Uint64(b[i:])
		w1 := binary.LittleEndian.Uint64(b[i+8:])
		if ((w0+ones)|w0|(w1+ones)|w1)&highs != 0 { // a byte ≥ 0x7f
			return false
		}
		// Every byte is below 0x7f, so this test for a byte < 0x20 is exact
		// (borrows may add false positives, which plainBytes settles).
		if ((w0-0x20*ones)&^w0|(w1-0x20*ones)&^w1)&highs != 0 && !plainBytes(s[i:i+16]) {
			return false
		}
	}
	return plainBytes(s[i:])
}

// plainBytes is PlainASCII one byte at a time.
func plainBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			return false
		}
	}
	return true
}
