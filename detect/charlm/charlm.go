// Package charlm is a character-level n-gram language model of benign text
// and the per-window perplexity it gives: the "perplexity filter" against
// optimised jailbreak suffixes (GCG-style sub-word and symbol soup), whose
// characters no writer of prose or code puts in that order.
//
// Text is read as a sequence of symbols (Fold): printable ASCII as itself
// with every digit folded to '0', white space to ' ' or '\n', and each
// non-ASCII character to one symbol for its script block (so that a
// Cyrillic or Chinese sentence is a run of one symbol and not judged
// letter by letter). Two models of order Order are trained by
// `go run ./tools/charlm` on the benign (label 0) rows of
// data/injection/train.jsonl: one on the lines that look like code or
// markup, one on the other lines (prose), both with interpolated
// Witten-Bell smoothing. A window's score is its mean surprisal in bits
// per symbol under the model that explains it better: prose must look
// unlike prose and code unlike code to score high.
//
// The model is a flat table of 16-bit slots (10-bit fingerprint, 6-bit
// quantised surprisal) addressed by a hash of the n-gram; a dense bigram
// table is the cheap first pass (Scan) that decides which parts of a text
// pay for the full model.
package charlm

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"math"
)

// Order is the n-gram order (a symbol and the Order-1 symbols before it).
const Order = 5

// Symbols is the size of the folded alphabet.
const Symbols = 128

// Quant is the quantisation step: a stored byte q is q/Quant bits.
const Quant = 16

// Domains of the model: prose and code.
const (
	Prose = 0
	Code  = 1
	// NumDomains is the number of domain models.
	NumDomains = 2
)

// Symbols for non-ASCII characters (by script block) and others.
const (
	SymControl   = 1
	SymLatinExt  = 2  // U+0080–U+02FF: accented Latin letters, Latin-1 signs
	SymGreek     = 3  // U+0300–U+03FF: combining marks, Greek
	SymCyrillic  = 4  // U+0400–U+052F
	SymRTL       = 5  // U+0530–U+07FF: Armenian, Hebrew, Arabic, Syriac
	SymIndic     = 6  // U+0800–U+0FFF: Devanagari and the other Indic scripts, Thai, Tibetan
	SymMisc1     = 7  // U+1000–U+1FFF: Myanmar, Georgian, Jamo, Vietnamese letters, Greek extended
	SymPunct     = 8  // U+2000–U+2FFF: general punctuation, symbols, arrows (curly quotes and dashes fold to ASCII)
	SymCJK       = 9  // U+3000–U+9FFF: CJK punctuation, kana, ideographs
	SymHangul    = 10 // U+A000–U+DFFF: Yi, Hangul syllables
	SymFullwidth = 11 // U+E000–U+FFFF: private use, compatibility, full-width forms
	SymAstral    = 12 // U+10000 and above: emoji and other planes
	SymInvalid   = 13 // a byte that starts no UTF-8 character
	// SymNonASCIIMax is the last symbol of a non-ASCII character.
	SymNonASCIIMax = SymInvalid
)

// asciiFold maps an ASCII byte to its symbol.
var asciiFold = func() (t [128]uint8) {
	for c := 0; c < 128; c++ {
		switch {
		case c >= '0' && c <= '9':
			t[c] = '0'
		case c == '\t' || c == ' ' || c == '\f' || c == '\v':
			t[c] = ' '
		case c == '\n' || c == '\r':
			t[c] = '\n'
		case c < 32 || c == 127:
			t[c] = SymControl
		default:
			t[c] = uint8(c)
		}
	}
	return
}()

// leadRanges are the symbols of the bytes from 0x80: each up to (not
// including) its bound.
var leadRanges = [...]struct {
	below int
	sym   uint8
}{{0xC0, 0 /* continuation */}, {0xC2, SymInvalid}, {0xCC, SymLatinExt}, {0xD0, SymGreek}, {0xD5, SymCyrillic},
	{0xE0, SymRTL}, {0xE1, SymIndic}, {0xE2, SymMisc1}, {0xE3, SymPunct}, {0xEA, SymCJK}, {0xEE, SymHangul},
	{0xF0, SymFullwidth}, {0xF5, SymAstral}, {0x100, SymInvalid}}

// leadFold maps the lead byte of a multi-byte UTF-8 character to its
// symbol (0 for a continuation byte, which has none).
var leadFold = func() (t [256]uint8) {
	c := 0x80
	for _, r := range leadRanges {
		for ; c < r.below; c++ {
			t[c] = r.sym
		}
	}
	return
}()

// Fold returns the symbol of the character that starts at text[i] and its
// length in bytes. A continuation byte met on its own (broken UTF-8) is a
// one-byte SymInvalid.
func Fold(text string, i int) (sym uint8, n int) {
	c := text[i]
	if c < 0x80 {
		return asciiFold[c], 1
	}
	s := leadFold[c]
	switch {
	case s == 0:
		return SymInvalid, 1
	case c < 0xE0:
		n = 2
	case c < 0xF0:
		n = 3
	default:
		n = 4
	}
	if i+n > len(text) {
		return SymInvalid, 1
	}
	for k := 1; k < n; k++ {
		if text[i+k]&0xC0 != 0x80 {
			return SymInvalid, 1
		}
	}
	if c == 0xE2 && text[i+1] == 0x80 {
		// curly quotes, dashes and the ellipsis are ASCII marks to a reader
		switch text[i+2] {
		case 0x98, 0x99, 0x9A, 0x9B:
			return '\'', 3
		case 0x9C, 0x9D, 0x9E, 0x9F:
			return '"', 3
		case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95:
			return '-', 3
		case 0xA6:
			return '.', 3
		case 0x8B, 0x8C, 0x8D:
			return ' ', 3 // zero-width spaces
		}
	}
	if c == 0xC2 && text[i+1] == 0xA0 {
		return ' ', 2 // no-break space
	}
	return s, n
}

// Key is the hash-table key of an n-gram (ctx symbols then the symbol, at
// most Order of them) or, with context set, of a context seen in training
// (whose slot holds its back-off weight).
func Key(domain int, syms []uint8, context bool) uint64 {
	k := uint64(domain)<<1 | uint64(len(syms))<<2
	if context {
		k |= 1
	}
	for _, s := range syms {
		k = k<<7 | uint64(s&0x7F)
	}
	return k
}

// Bucket is the number of slots of a bucket: a key is stored in the first
// free slot of its bucket.
const Bucket = 4

// slotOf returns the first slot of key's bucket (of Bucket) in a table of
// 1<<bits slots, and its fingerprint (never 0: 0 marks an empty slot).
func slotOf(key uint64, bits uint) (slot uint32, fp uint16) {
	h := key * 0x9E3779B97F4A7C15 // Fibonacci hashing; the fingerprint from other bits
	h ^= h >> 29
	h *= 0xD6E8FEB86659FD93
	fp = uint16(h>>20) & fpMask
	if fp == 0 {
		fp = 1
	}
	return uint32(h>>(64-bits)) &^ (Bucket - 1), fp
}

// Model is a loaded table.
type Model struct {
	bits    uint
	slots   []uint16
	unigram [NumDomains][Symbols]uint8
	// bigram[d][a<<7|b] is -log2 P(b|a) in domain d; minBigram the
	// smaller of the two (the first pass)
	bigram    [NumDomains][Symbols * Symbols]uint8
	minBigram [Symbols * Symbols]uint8
	// pre[p<<8|c] is the first pass's surprisal of byte c after byte p:
	// the smaller domain bigram surprisal of their symbols, 0 for a
	// continuation byte, and after a continuation byte the smallest over
	// the non-ASCII symbols (the script it continues is not known)
	pre [1 << 16]uint8
}

const magic = "CHLM1\x00"

// Load reads a table written by Build.
func Load(b []byte) (*Model, error) {
	hdr := len(magic) + 2
	if len(b) < hdr || string(b[:len(magic)]) != magic || b[len(magic)] != Order {
		return nil, errors.New("charlm: not a table of this version")
	}
	m := &Model{bits: uint(b[len(magic)+1])}
	if m.bits < 8 || m.bits > 26 {
		return nil, errors.New("charlm: bad table size")
	}
	need := hdr + NumDomains*(Symbols+Symbols*Symbols) + 2<<m.bits
	if len(b) != need {
		return nil, errors.New("charlm: table length does not match its header")
	}
	p := hdr
	for d := 0; d < NumDomains; d++ {
		p += copy(m.unigram[d][:], b[p:])
		p += copy(m.bigram[d][:], b[p:p+Symbols*Symbols])
	}
	for i := range m.minBigram {
		m.minBigram[i] = min(m.bigram[0][i], m.bigram[1][i])
	}
	symOf := func(c int) uint8 {
		if c < 0x80 {
			return asciiFold[c]
		}
		return leadFold[c]
	}
	for p := 0; p < 256; p++ {
		for c := 0; c < 256; c++ {
			cs := symOf(c)
			if cs == 0 {
				continue // a continuation byte
			}
			if ps := symOf(p); ps != 0 {
				m.pre[p<<8|c] = m.minBigram[int(ps)<<7|int(cs)]
				continue
			}
			v := uint8(255)
			for ps := SymLatinExt; ps <= SymNonASCIIMax; ps++ {
				v = min(v, m.minBigram[ps<<7|int(cs)])
			}
			m.pre[p<<8|c] = v
		}
	}
	m.slots = make([]uint16, 1<<m.bits)
	for i := range m.slots {
		m.slots[i] = binary.LittleEndian.Uint16(b[p+2*i:])
	}
	return m, nil
}

// get returns the stored byte of key and whether key is in the table.
func (m *Model) get(key uint64) (uint8, bool) {
	s, fp := slotOf(key, m.bits)
	b := m.slots[s : s+Bucket : s+Bucket]
	for _, e := range b {
		if e>>slotQBits == fp {
			return uint8(e&slotQMask) * slotQStep, true
		}
	}
	return 0, false
}

// Surprisal returns -log2 P(sym | ctx) in domain d in units of 1/Quant
// bit, where ctx holds the symbols before sym (only the last Order-1 are
// used). The n-gram of the longest context is looked up; for each seen
// context whose n-gram is unseen its back-off weight is added and a
// shorter context tried (interpolated Witten-Bell: P(c|h) = w(h) P(c|h')
// for an unseen c).
func (m *Model) Surprisal(d int, ctx []uint8, sym uint8) int {
	if len(ctx) > Order-1 {
		ctx = ctx[len(ctx)-(Order-1):]
	}
	// keys are built incrementally from the shortest context: hist[k] is
	// the key bits of the last k context symbols
	var hist [Order]uint64
	for k := 1; k <= len(ctx); k++ {
		hist[k] = hist[k-1] | uint64(ctx[len(ctx)-k]&0x7F)<<(7*(k-1))
	}
	total := 0
	for k := len(ctx); k >= 2; k-- {
		ng := (uint64(d)<<1|uint64(k+1)<<2)<<(7*(k+1)) | hist[k]<<7 | uint64(sym&0x7F)
		if q, ok := m.get(ng); ok {
			return total + int(q)
		}
		cx := (uint64(d)<<1|1|uint64(k)<<2)<<(7*k) | hist[k]
		if q, ok := m.get(cx); ok {
			total += int(q)
		}
	}
	if len(ctx) >= 1 {
		return total + int(m.bigram[d][int(ctx[len(ctx)-1]&0x7F)<<7|int(sym&0x7F)])
	}
	return total + int(m.unigram[d][sym&0x7F])
}

// A slot of the hashed table is a 10-bit fingerprint over a 6-bit
// surprisal in quarter bits (the dense tables keep 1/Quant bit): an
// absent key matches a stored one's fingerprint in about one lookup in
// 250, and a window's mean over 40 symbols averages the rounding out.
const (
	slotQBits = 6
	slotQMask = 1<<slotQBits - 1
	slotQStep = Quant / 4 // a stored step in units of 1/Quant bit
	fpMask    = 1<<(16-slotQBits) - 1
)

// slotValue is the slot of fingerprint fp and surprisal bits.
func slotValue(fp uint16, bits float64) uint16 {
	q := math.Round(bits * Quant / slotQStep)
	q = max(0, min(q, slotQMask))
	return fp<<slotQBits | uint16(q)
}

// quantise turns bits into a stored byte.
func quantise(bits float64) uint8 {
	q := math.Round(bits * Quant)
	if q > 255 {
		q = 255
	}
	if q < 0 {
		q = 0
	}
	return uint8(q)
}
