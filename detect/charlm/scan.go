package charlm

import (
	"bytes"
	_ "embed"
	"sync"
)

// Window is the size in symbols of the windows Scan scores.
const Window = 40

// Block is the size in bytes of the first pass's blocks: a pair of
// adjacent blocks whose mean bigram surprisal reaches PreBits is scored by
// the full model.
const Block = 16

// LongToken is the length in bytes from which a run without white space
// (a hash, base64, a URL, minified code) is not scored: a window that
// touches it is skipped.
const LongToken = 24

// MaxScored is the most bytes of a text the full model scores in one
// Scan (the regions after it are left out): text that is all soup costs
// about 60 µs per KB, so a long one is bounded at about 250 µs.
const MaxScored = 4 << 10

// Tunables of Scan (set from the train split's benign rows and the tuning
// suffixes; see docs/DETECTION.md).
const (
	// PreBits is the first pass's threshold on the mean of the smaller
	// of the two domain bigram surprisals over two blocks, in bits.
	PreBits = 4.25
	// maxForeign is the largest share (in windows of Window symbols) of
	// non-ASCII characters a window may have to be scored (other scripts
	// are not judged by a model of mostly English text)
	maxForeign = Window / 5
)

//go:embed table.bin
var tableBytes []byte

var (
	defaultOnce  sync.Once
	defaultModel *Model
)

// Default returns the embedded model (nil if the table is missing or
// broken, which TestTable rules out).
func Default() *Model {
	defaultOnce.Do(func() {
		m, err := Load(tableBytes)
		if err == nil {
			defaultModel = m
		}
	})
	return defaultModel
}

// EmbeddedTable returns a copy of the embedded table.
func EmbeddedTable() []byte { return bytes.Clone(tableBytes) }

// Result is the highest-scoring window Scan found.
type Result struct {
	// Start and End are the window's byte span in the text.
	Start, End int
	// Bits is the window's mean surprisal in bits per symbol under the
	// domain model that explains it better (the smaller of Prose and
	// Code).
	Bits, Prose, Code float64
}

// Scratch is the reusable memory of Scan (a zero Scratch is ready).
type Scratch struct {
	blocks []block
	syms   []uint8
	offs   []int32
	sp, sc []uint16
	masked []bool
}

type block struct {
	start int32 // byte offset of the block's first symbol
	sum   int32 // bigram surprisal sum (units of 1/Quant bit)
	mark  bool
}

// Scan returns the window of Window symbols with the highest score among
// those the first pass selects, and false when no window was scored
// (nothing passed the first pass, or every candidate window was masked).
// When want is not nil, a selected region of the text is scored only if
// want(region) is true (a cheaper test the caller's decision needs).
func (m *Model) Scan(text string, s *Scratch, want func(region string) bool) (best Result, ok bool) {
	if len(text) == 0 {
		return best, false
	}
	// first pass: bigram surprisal per block of Block bytes
	s.blocks = s.blocks[:0]
	pre := int(PreBits * Quant * 2 * Block)
	any := false
	prev, last := byte('\n'), 0
	for i := 0; i < len(text); i += Block {
		blk := text[i:min(i+Block, len(text))]
		sum := 0
		for j := 0; j < len(blk); j++ {
			c := blk[j]
			sum += int(m.pre[uint16(prev)<<8|uint16(c)])
			prev = c
		}
		if len(blk) < Block {
			sum = sum * Block / len(blk) // a last, short block at its own length
		}
		s.blocks = append(s.blocks, block{start: int32(i), sum: int32(sum)})
		if k := len(s.blocks); k >= 2 && last+sum >= pre {
			s.blocks[k-2].mark, s.blocks[k-1].mark, any = true, true, true
		}
		last = sum
	}
	if len(s.blocks) == 1 && len(text) >= Window/2 && 2*last >= pre {
		s.blocks[0].mark, any = true, true
	}
	if !any {
		return best, false
	}
	// second pass: the full model over each run of marked blocks (and
	// one block either side)
	bestBits := -1.0
	scored := 0
	for i := 0; i < len(s.blocks) && scored < MaxScored; {
		if !s.blocks[i].mark {
			i++
			continue
		}
		j := i
		for j < len(s.blocks) && s.blocks[j].mark {
			j++
		}
		a := int(s.blocks[max(0, i-1)].start)
		b := len(text)
		if j+1 < len(s.blocks) {
			b = int(s.blocks[j+1].start)
		}
		if want != nil && !want(text[a:b]) {
			i = j
			continue
		}
		if b-a > MaxScored-scored {
			b = a + MaxScored - scored
			for b > a && b < len(text) && text[b]&0xC0 == 0x80 {
				b-- // not inside a character
			}
		}
		scored += b - a
		if r, found := m.scoreRegion(text, a, b, s); found && r.Bits > bestBits {
			best, bestBits, ok = r, r.Bits, true
		}
		i = j
	}
	return best, ok
}

// scoreRegion scores every window of text[a:b] with the full model.
func (m *Model) scoreRegion(text string, a, b int, s *Scratch) (best Result, ok bool) {
	s.syms, s.offs, s.sp, s.sc, s.masked = s.syms[:0], s.offs[:0], s.sp[:0], s.sc[:0], s.masked[:0]
	// context: the Order-1 symbols before a (line starts before the text)
	for k := 0; k < Order-1; k++ {
		s.syms = append(s.syms, '\n')
	}
	c := a
	for k := 0; k < Order-1 && c > 0; k++ {
		c--
		for c > 0 && text[c]&0xC0 == 0x80 {
			c--
		}
	}
	for i := c; i < a; {
		sym, n := Fold(text, i)
		s.syms = append(s.syms, sym)
		i += n
	}
	copy(s.syms, s.syms[len(s.syms)-(Order-1):])
	s.syms = s.syms[:Order-1]
	tokStart := 0 // index in s.offs of the current token's first symbol
	for i := a; i < b; {
		sym, n := Fold(text, i)
		ctx := s.syms[len(s.syms)-(Order-1):]
		s.sp = append(s.sp, uint16(m.Surprisal(Prose, ctx, sym)))
		s.sc = append(s.sc, uint16(m.Surprisal(Code, ctx, sym)))
		s.syms = append(s.syms, sym)
		s.offs = append(s.offs, int32(i))
		// a window is one line: a line break is masked
		s.masked = append(s.masked, sym == '\n')
		if sym == ' ' || sym == '\n' {
			markLong(s, tokStart, len(s.offs)-1, int(s.offs[len(s.offs)-1]))
			tokStart = len(s.offs)
		}
		i += n
	}
	markLong(s, tokStart, len(s.offs), b)
	nsym := len(s.offs)
	w := min(Window, nsym)
	if w < Window/2 {
		return best, false
	}
	var sumP, sumC, masked, foreign int
	syms := s.syms[Order-1:]
	for k := 0; k < nsym; k++ {
		sumP += int(s.sp[k])
		sumC += int(s.sc[k])
		masked += b2i(s.masked[k])
		foreign += b2i(syms[k] >= SymLatinExt && syms[k] <= SymNonASCIIMax && syms[k] != SymLatinExt)
		if k >= w {
			sumP -= int(s.sp[k-w])
			sumC -= int(s.sc[k-w])
			masked -= b2i(s.masked[k-w])
			foreign -= b2i(syms[k-w] >= SymLatinExt && syms[k-w] <= SymNonASCIIMax && syms[k-w] != SymLatinExt)
		}
		if k < w-1 || masked > 0 || foreign*Window > maxForeign*w {
			continue
		}
		v := min(sumP, sumC)
		bits := float64(v) / Quant / float64(w)
		if !ok || bits > best.Bits {
			end := b
			if k+1 < nsym {
				end = int(s.offs[k+1])
			}
			best = Result{Start: int(s.offs[k-w+1]), End: end, Bits: bits,
				Prose: float64(sumP) / Quant / float64(w), Code: float64(sumC) / Quant / float64(w)}
			ok = true
		}
	}
	return best, ok
}

// markLong masks the symbols [from, to) of a token when it is LongToken
// bytes or longer (end is the byte offset after it).
func markLong(s *Scratch, from, to, end int) {
	if from >= to || end-int(s.offs[from]) < LongToken {
		return
	}
	for k := from; k < to; k++ {
		s.masked[k] = true
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PreMax returns the highest mean first-pass surprisal (bits per byte) of
// two adjacent blocks of text (for measuring PreBits).
func (m *Model) PreMax(text string) float64 {
	prev, last, best := byte('\n'), -1, 0
	for i := 0; i < len(text); i += Block {
		blk := text[i:min(i+Block, len(text))]
		sum := 0
		for j := 0; j < len(blk); j++ {
			sum += int(m.pre[uint16(prev)<<8|uint16(blk[j])])
			prev = blk[j]
		}
		if len(blk) < Block {
			sum = sum * Block / len(blk)
		}
		if last >= 0 {
			best = max(best, last+sum)
		}
		last = sum
	}
	return float64(best) / Quant / (2 * Block)
}
