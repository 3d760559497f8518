package rules

import (
	"sort"
	"strings"
)

// litIndex finds the first occurrence in a text of any of a set of
// strings in one pass over the text, where a strings.Index per string would
// pass over it once per string (the need and prefix sets of a rule have
// dozens, many beginning with common letters).
type litIndex struct {
	lits []string // sorted by first byte
	// at: lits[at[c]:at[c+1]] are those beginning with byte c
	at [257]uint16
	// starts[c] is set when a string begins with byte c
	starts [256]bool
	// pairs: bit pairHash(c0, c1) is set for the first two bytes of every
	// string (for a one-byte string c0, for every c1): a position whose
	// two bytes have no bit set begins none of them.
	pairs [pairBits / 64]uint64
}

const pairBits = 4096

// pairHash is exact on two ASCII letters (c0*31+c1 differs for each pair).
func pairHash(c0, c1 byte) uint { return (uint(c0)*31 + uint(c1)) & (pairBits - 1) }

// newLitIndex indexes lits (non-empty strings, at most 65535 of them).
func newLitIndex(lits []string) *litIndex {
	x := &litIndex{lits: append([]string(nil), lits...)}
	sort.SliceStable(x.lits, func(i, j int) bool { return x.lits[i][0] < x.lits[j][0] })
	for _, l := range x.lits {
		x.at[int(l[0])+1]++
		x.starts[l[0]] = true
		if len(l) == 1 {
			for c1 := 0; c1 < 256; c1++ {
				h := pairHash(l[0], byte(c1))
				x.pairs[h/64] |= 1 << (h % 64)
			}
			continue
		}
		h := pairHash(l[0], l[1])
		x.pairs[h/64] |= 1 << (h % 64)
	}
	for c := 1; c <= 256; c++ {
		x.at[c] += x.at[c-1]
	}
	return x
}

// first returns the index of the first occurrence in s of any of the
// strings, or -1.
func (x *litIndex) first(s string) int {
	for i := 0; i < len(s); i++ {
		c0 := s[i]
		if !x.starts[c0] {
			continue
		}
		lo, hi := x.at[c0], x.at[int(c0)+1]
		if i+1 < len(s) {
			if h := pairHash(c0, s[i+1]); x.pairs[h/64]&(1<<(h%64)) == 0 {
				continue
			}
		}
		for _, l := range x.lits[lo:hi] {
			if strings.HasPrefix(s[i:], l) {
				return i
			}
		}
	}
	return -1
}
