package charlm

import (
	"encoding/binary"
	"math"
	"regexp"
	"slices"
)

// DefaultBits is the log2 of the number of 16-bit slots of the table that
// tools/charlm writes (2 MiB).
const DefaultBits = 20

// MinCount is how often an n-gram or context must occur in training to be
// stored.
const MinCount = 2

// codeLine is how Build's caller tells a line of code or markup from a
// line of prose: brackets, braces, assignments, pipes, backslashes,
// dollars, statement ends, "()", "->" or "::".
var codeLine = regexp.MustCompile(`[;{}=<>\[\]|\\$]|\(\)|->|::`)

// DomainOf says which domain model a line of training text belongs to.
func DomainOf(line string) int {
	if codeLine.MatchString(line) {
		return Code
	}
	return Prose
}

// FoldString returns the symbols of s.
func FoldString(s string) []uint8 {
	out := make([]uint8, 0, len(s))
	for i := 0; i < len(s); {
		sym, n := Fold(s, i)
		out = append(out, sym)
		i += n
	}
	return out
}

// counts holds the n-gram counts of one domain: ngram[k] maps the key of
// an n-gram of k+1 symbols to its count.
type counts struct {
	ngram [Order]map[uint64]uint32
	// ctxTotal and ctxTypes are, for each context of k symbols, the
	// number of n-grams and of distinct next symbols seen after it
	ctxTotal, ctxTypes [Order]map[uint64]uint32
}

func pack(syms []uint8) uint64 {
	var k uint64
	for _, s := range syms {
		k = k<<7 | uint64(s&0x7F)
	}
	return k
}

// Build trains the two domain models on lines (each line a training
// text without its line break; Build assigns it to a domain with
// DomainOf) and returns the table with 1<<bits slots. The output depends
// only on the lines and bits.
func Build(lines []string, bits uint) []byte {
	var cs [NumDomains]counts
	for d := range cs {
		for k := 0; k < Order; k++ {
			cs[d].ngram[k] = map[uint64]uint32{}
			cs[d].ctxTotal[k] = map[uint64]uint32{}
			cs[d].ctxTypes[k] = map[uint64]uint32{}
		}
	}
	buf := make([]uint8, 0, 4096)
	for _, line := range lines {
		c := &cs[DomainOf(line)]
		buf = buf[:0]
		for k := 0; k < Order-1; k++ {
			buf = append(buf, '\n')
		}
		for i := 0; i < len(line); {
			sym, n := Fold(line, i)
			buf = append(buf, sym)
			i += n
		}
		buf = append(buf, '\n')
		for i := Order - 1; i < len(buf); i++ {
			for k := 0; k < Order; k++ {
				c.ngram[k][pack(buf[i-k:i+1])]++
			}
		}
	}
	for d := range cs {
		c := &cs[d]
		for k := 0; k < Order; k++ {
			for g, n := range c.ngram[k] {
				h := g >> 7
				c.ctxTotal[k][h] += n
				c.ctxTypes[k][h]++
			}
		}
	}
	out := make([]byte, 0, len(magic)+2+NumDomains*(Symbols+Symbols*Symbols)+2<<bits)
	out = append(out, magic...)
	out = append(out, Order, byte(bits))
	type entry struct {
		key   uint64
		bits  float64
		count uint32
		ctx   bool
	}
	var entries []entry
	for d := range cs {
		c := &cs[d]
		// prob[k][g]: the interpolated probability of each seen n-gram
		// of k+1 symbols
		var prob [Order]map[uint64]float64
		uni := func(sym uint64) float64 {
			T, U := float64(c.ctxTotal[0][0]), float64(c.ctxTypes[0][0])
			return (float64(c.ngram[0][sym]) + U/Symbols) / (T + U)
		}
		// p returns P(g's last symbol | g's context of k symbols)
		var p func(k int, g uint64) float64
		p = func(k int, g uint64) float64 {
			if k == 0 {
				return uni(g & 0x7F)
			}
			if v, ok := prob[k][g]; ok {
				return v
			}
			lower := p(k-1, g&(1<<(7*k)-1))
			h := g >> 7
			T := c.ctxTotal[k][h]
			if T == 0 {
				return lower
			}
			U := float64(c.ctxTypes[k][h])
			return (float64(c.ngram[k][g]) + U*lower) / (float64(T) + U)
		}
		for k := 1; k < Order; k++ {
			prob[k] = make(map[uint64]float64, len(c.ngram[k]))
			keys := make([]uint64, 0, len(c.ngram[k]))
			for g := range c.ngram[k] {
				keys = append(keys, g)
			}
			slices.Sort(keys)
			for _, g := range keys {
				prob[k][g] = p(k, g)
			}
		}
		var uniQ [Symbols]uint8
		for s := 0; s < Symbols; s++ {
			uniQ[s] = quantise(-math.Log2(uni(uint64(s))))
		}
		out = append(out, uniQ[:]...)
		for a := 0; a < Symbols; a++ {
			for b := 0; b < Symbols; b++ {
				out = append(out, quantise(-math.Log2(p(1, uint64(a)<<7|uint64(b)))))
			}
		}
		// hashed: the n-grams of 3..Order symbols and the contexts of
		// 2..Order-1 symbols (with their back-off weights)
		for k := 2; k < Order; k++ {
			for g, n := range c.ngram[k] {
				entries = append(entries, entry{key: (uint64(d)<<1|uint64(k+1)<<2)<<(7*(k+1)) | g, bits: -math.Log2(prob[k][g]), count: n})
			}
			for h, T := range c.ctxTotal[k] {
				U := float64(c.ctxTypes[k][h])
				entries = append(entries, entry{key: (uint64(d)<<1|1|uint64(k)<<2)<<(7*k) | h,
					bits: -math.Log2(U / (float64(T) + U)), count: T, ctx: true})
			}
		}
	}
	// by count, contexts first, then by key: n-grams and contexts seen
	// fewer than MinCount times are left out, and so is an n-gram whose
	// bucket is full (it then backs off to a shorter one)
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.count != b.count:
			if a.count > b.count {
				return -1
			}
			return 1
		case a.ctx != b.ctx:
			if a.ctx {
				return -1
			}
			return 1
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	slots := make([]uint16, 1<<bits)
	for _, e := range entries {
		if e.count < MinCount {
			break // sorted: the rest are rarer
		}
		s, fp := slotOf(e.key, bits)
		for k := s; k < s+Bucket; k++ {
			if slots[k] == 0 {
				slots[k] = slotValue(fp, e.bits)
				break
			}
		}
	}
	for _, v := range slots {
		out = binary.LittleEndian.AppendUint16(out, v)
	}
	return out
}
