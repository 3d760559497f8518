package extraction

import (
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
)

// signature is what the layer keeps of one prompt: hashes only, never text.
type signature struct {
	sim   uint64 // SimHash over word 2-shingles (near-duplicate detection)
	raw   uint32 // hash of the normalised word sequence (exact repeat)
	skel  uint32 // hash of the word sequence with enumerable tokens masked (sweeps)
	head  uint32 // hash of the first headWords masked words (template opening)
	frame uint32 // hash of the first masked word, the last tailWords and the word count (slot in the middle)
	words uint16 // number of words (saturating)
	enums uint8  // number of enumerable tokens (saturating)
}

const (
	headWords = 4 // words in a template's opening
	tailWords = 2 // words in a template's closing (part of the frame)
)

// FNV-1a 64-bit constants, used to combine word hashes into the sequence
// hashes (raw, skeleton, opening, frame).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// maskWord stands for every enumerable token in the skeleton, opening and
// frame hashes: "item 17" and "item 18" (or "option a" and "option b") give the
// same skeleton.
const maskWord = 0x9e3779b97f4a7c15

// mix64 is a 64-bit finaliser (splitmix64) that spreads a shingle's bits
// evenly, which SimHash needs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// lanes[b] has byte j set to bit j of b: adding lanes[b] to a uint64 counts
// the bits of b in eight 8-bit lanes at once (SWAR), so one shingle costs
// eight table look-ups and adds instead of 64 bit tests.
var lanes = func() (t [256]uint64) {
	for b := range 256 {
		for j := range 8 {
			if b>>j&1 == 1 {
				t[b] |= 1 << (8 * j)
			}
		}
	}
	return t
}()

// simhasher accumulates SimHash bit counts without allocating. Shingle
// hashes are buffered and counted in batches, so that the eight lane
// accumulators stay in registers.
type simhasher struct {
	buf   [batch]uint64 // shingle hashes not counted yet
	nbuf  int
	count [64]uint32
	n     uint32 // shingles added in total
}

// batch is how many shingles are counted at once; below 256, so an 8-bit
// lane cannot overflow within a batch.
const batch = 128

func (s *simhasher) add(h uint64) {
	s.buf[s.nbuf] = h
	s.nbuf++
	if s.nbuf == batch {
		s.flush()
	}
}

// flush counts the buffered shingles: per byte position of the hash, eight
// 8-bit lane counters in one uint64, then spreads them into count.
func (s *simhasher) flush() {
	var a0, a1, a2, a3, a4, a5, a6, a7 uint64
	for _, h := range s.buf[:s.nbuf] {
		a0 += lanes[byte(h)]
		a1 += lanes[byte(h>>8)]
		a2 += lanes[byte(h>>16)]
		a3 += lanes[byte(h>>24)]
		a4 += lanes[byte(h>>32)]
		a5 += lanes[byte(h>>40)]
		a6 += lanes[byte(h>>48)]
		a7 += lanes[byte(h>>56)]
	}
	for i, a := range [8]uint64{a0, a1, a2, a3, a4, a5, a6, a7} {
		for j := range 8 {
			s.count[8*i+j] += uint32(a >> (8 * j) & 0xff)
		}
	}
	s.n += uint32(s.nbuf)
	s.nbuf = 0
}

// sum sets bit k where more than half of the shingles had bit k set.
func (s *simhasher) sum() uint64 {
	if s.nbuf > 0 {
		s.flush()
	}
	var out uint64
	for k := range 64 {
		if 2*s.count[k] > s.n {
			out |= 1 << k
		}
	}
	return out
}

// hamming is the number of differing bits of two SimHashes.
func hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// asciiFold maps an ASCII byte to its lower-case form when it is a letter
// or a digit, and to 0 when it separates words; digits are the only
// values below 'a'.
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for c := range utf8.RuneSelf {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			t[c] = byte(c)
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c + 'a' - 'A')
		}
	}
	return
}()

// sigBuilder accumulates a signature word by word.
type sigBuilder struct {
	sh          simhasher
	raw, skel   uint64
	head, first uint64
	prev        uint64
	tail        [tailWords]uint64
	words       int
	enums       int
}

// word adds one word with hash h (a polynomial hash of its lower-cased
// runes, spread by mix64);
// enum marks an enumerable token.
func (b *sigBuilder) word(h uint64, enum bool) {
	w := mix64(h)
	m := w
	if enum {
		m = maskWord
		b.enums++
	}
	b.raw = (b.raw ^ w) * fnvPrime
	b.skel = (b.skel ^ m) * fnvPrime
	if b.words < headWords {
		b.head = (b.head ^ m) * fnvPrime
		if b.words == 0 {
			b.first = m
		}
	}
	b.tail[b.words%tailWords] = m
	if b.words > 0 {
		// Both word hashes are already mixed, so rotating one and xoring
		// gives an evenly spread, order-sensitive shingle hash.
		b.sh.add(bits.RotateLeft64(b.prev, 23) ^ w)
	}
	b.prev = w
	b.words++
}

// analyse computes the signature of text (already reduced to the part under
// analysis): words are maximal runs of letters and digits, lower-cased;
// everything else separates words. Enumerable tokens are words with a digit
// (17, #17; "id-0042" is "id" and "0042") and one-letter words (option a /
// option b). It does not allocate; ASCII takes a table-driven fast path.
func analyse(text string) signature {
	b := sigBuilder{raw: fnvOffset, skel: fnvOffset, head: fnvOffset}
	var (
		h        uint64
		inWord   bool
		hasDigit bool
		runes    int // runes in the current word
	)
	for i := 0; i < len(text); {
		var r rune
		var digit bool
		if c := text[i]; c < utf8.RuneSelf {
			i++
			v := asciiFold[c]
			if v == 0 {
				if inWord {
					b.word(h, hasDigit || runes == 1)
					inWord, h = false, 0
				}
				continue
			}
			r, digit = rune(v), v < 'a'
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(text[i:])
			i += size
			switch {
			case unicode.IsLetter(r):
				r = unicode.ToLower(r)
			case unicode.IsDigit(r):
				digit = true
			default:
				if inWord {
					b.word(h, hasDigit || runes == 1)
					inWord, h = false, 0
				}
				continue
			}
		}
		if !inWord {
			inWord, hasDigit, runes = true, false, 0
		}
		hasDigit = hasDigit || digit
		runes++
		h = h*31 + uint64(r) // polynomial hash; word() mixes it once per word
	}
	if inWord {
		b.word(h, hasDigit || runes == 1)
	}
	if b.words == 1 {
		b.sh.add(mix64(b.prev)) // a one-word prompt: the word is its only shingle
	}
	f := (uint64(fnvOffset) ^ b.first) * fnvPrime
	for k := range tailWords {
		f = (f ^ b.tail[(b.words+k)%tailWords]) * fnvPrime
	}
	return signature{
		sim:   b.sh.sum(),
		raw:   fold(b.raw),
		skel:  fold(b.skel),
		head:  fold(b.head),
		frame: fold((f ^ uint64(b.words)) * fnvPrime),
		words: uint16(min(b.words, 0xffff)),
		enums: uint8(min(b.enums, 0xff)),
	}
}

func fold(h uint64) uint32 { return uint32(h ^ h>>32) }

// questionText picks the part of a request the layer analyses: the last
// user-typed segment (conv.SourceUser) of the last user message, reduced to
// its last paragraph (text after the last blank line), to its last maxBytes
// bytes, and without a leading field label ("Question:"). Documents (conv.SourceDocument), tool output, system
// prompts and earlier turns are left out, so that a RAG application that
// sends the same long context with different questions is judged on its
// questions. It returns "" when the request has no user text.
func questionText(c *conv.Conversation, maxBytes int) string {
	if c == nil {
		return ""
	}
	for mi := len(c.Messages) - 1; mi >= 0; mi-- {
		m := &c.Messages[mi]
		if m.Role != conv.RoleUser {
			continue
		}
		for si := len(m.Segments) - 1; si >= 0; si-- {
			s := &m.Segments[si]
			if s.Source != conv.SourceUser || strings.TrimSpace(s.Text) == "" {
				continue
			}
			return stripLabel(lastParagraph(s.Text, maxBytes))
		}
		return ""
	}
	return ""
}

// lastParagraph returns the text after the last blank line, cut to its last
// maxBytes bytes (at a rune start). Cutting first gives the same result (a
// paragraph longer than maxBytes is cut anyway) and bounds the work.
func lastParagraph(s string, maxBytes int) string {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
	}
	if i := lastBlankLine(s); i >= 0 {
		s = s[i:]
	}
	return s
}

// lastBlankLine is the index just after the last "\n<spaces>\n" in s, or
// -1. It jumps from newline to newline (strings.LastIndexByte), so text
// without blank lines costs one fast scan.
func lastBlankLine(s string) int {
	for end := len(s); ; {
		nl := strings.LastIndexByte(s[:end], '\n')
		if nl < 0 {
			return -1
		}
		j := nl - 1
		for j >= 0 && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r') {
			j--
		}
		if j >= 0 && s[j] == '\n' {
			return nl + 1
		}
		end = nl
	}
}

// stripLabel removes a leading field label: up to 20 ASCII letters followed
// by a colon and a space ("Question: ", "Q: ", "Input:\n"), as prompt templates put before
// the variable part. Without it every question of a RAG template would
// share its opening word.
func stripLabel(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	j := i
	for j < len(s) && j-i <= 20 && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	if j == i || j-i > 20 || j >= len(s) || s[j] != ':' ||
		j+1 < len(s) && s[j+1] != ' ' && s[j+1] != '\t' && s[j+1] != '\n' && s[j+1] != '\r' {
		return s // not a label: no colon, or a colon inside a token (https://...)
	}
	return s[j+1:]
}
