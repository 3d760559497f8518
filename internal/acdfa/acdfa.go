// Package acdfa finds every occurrence of a set of byte strings in one pass
// over a text: an Aho-Corasick automaton resolved into a compact transition
// table. It reports exactly what github.com/BobuSumisu/aho-corasick's
// Trie.Walk reports, in the same order, from a table about a hundredth of
// that library's size (its Trie keeps 256 int64 transitions, 2 KiB, per
// state), so that the keyword sets of the detector, the secret scanner and
// gitleaks' stop words stay small in memory and in the cache.
package acdfa

import (
	"fmt"
	"slices"
)

// Automaton finds every occurrence of a set of keywords (overlapping ones
// too) in one pass: the Aho-Corasick automaton with its failure links
// resolved into a transition table over byte classes (bytes that occur in
// no keyword share one class), so each input byte costs one table lookup.
// It reports, at each end position, the longest keyword ending there first
// and then the shorter ones that are suffixes of it — the order of
// github.com/BobuSumisu/aho-corasick's Trie.Walk, which it replaces (and
// which its tests use as the reference).
//
// The table is laid out for the cache, because in a gateway the walk runs
// between other work that evicts it, and then its cost is memory latency,
// not instructions (BenchmarkWalk2KB/cold): entries are 16-bit state
// numbers (half the bytes of premultiplied 32-bit ones), classes are
// numbered by how often their byte occurs in the keywords (a row's
// frequent columns share its first cache line), and states are numbered
// breadth-first (the shallow states that ordinary text keeps visiting are
// adjacent).
type Automaton struct {
	class  [256]uint8
	nclass int
	// next[s*nclass+class] is the number of the state after state s on a
	// byte of that class. States are numbered so that those with outputs
	// come last (from firstOut on): most bytes cost one comparison more.
	next     []uint16
	firstOut uint32 // first state with outputs, premultiplied by nclass
	// outputs of state number k: patterns outs[outAt[k]:outAt[k+1]]
	outAt []int32
	outs  []int32
	plen  []int32 // pattern lengths in bytes
}

// maxDFAStates bounds the automaton (state numbers are uint16).
const maxDFAStates = 1 << 16

// New builds the automaton of patterns; a pattern's number is its index (a
// repeated pattern's is its last). It fails on an empty pattern, on
// patterns made of more than 255 distinct bytes or needing more than 65,536
// states (about that many bytes of patterns).
func New(patterns []string) (*Automaton, error) {
	d := &Automaton{}
	// classes: 0 for bytes in no keyword, then by descending count of the
	// byte in the keywords (ties by byte value)
	var count [256]int
	for _, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("acdfa: empty keyword")
		}
		for i := 0; i < len(p); i++ {
			count[p[i]]++
		}
		d.plen = append(d.plen, int32(len(p)))
	}
	var used []int
	for c := 0; c < 256; c++ {
		if count[c] > 0 {
			used = append(used, c)
		}
	}
	if len(used) >= 256 {
		return nil, fmt.Errorf("acdfa: too many distinct keyword bytes")
	}
	slices.SortStableFunc(used, func(a, b int) int { return count[b] - count[a] })
	for i, c := range used {
		d.class[c] = uint8(i + 1)
	}
	d.nclass = len(used) + 1
	nc := d.nclass
	// trie: goto transitions (0 = none; the root is state 0 and no
	// transition leads back to it), the pattern ending at each state (-1:
	// none)
	trie := make([]uint16, nc)
	own := []int32{-1}
	for pi, p := range patterns {
		s := 0
		for i := 0; i < len(p); i++ {
			c := int(d.class[p[i]])
			if trie[s*nc+c] == 0 {
				if len(own) >= maxDFAStates {
					return nil, fmt.Errorf("acdfa: keywords too long (over %d automaton states)", maxDFAStates)
				}
				trie[s*nc+c] = uint16(len(own))
				trie = append(trie, make([]uint16, nc)...)
				own = append(own, -1)
			}
			s = int(trie[s*nc+c])
		}
		own[s] = int32(pi) // a repeated pattern takes its last number, as in the library
	}
	n := len(own)
	// breadth-first: failure links, then transitions through them
	fail := make([]int32, n)
	next := make([]uint16, n*nc)
	order := make([]int32, 0, n)
	for c := 0; c < nc; c++ {
		if t := trie[c]; t != 0 {
			next[c] = t
			order = append(order, int32(t))
		}
	}
	for qi := 0; qi < len(order); qi++ {
		s := int(order[qi])
		for c := 0; c < nc; c++ {
			if t := trie[s*nc+c]; t != 0 {
				fail[t] = int32(next[int(fail[s])*nc+c])
				next[s*nc+c] = t
				order = append(order, int32(t))
			} else {
				next[s*nc+c] = next[int(fail[s])*nc+c]
			}
		}
	}
	// outputs: the state's own keyword, then those of its failure chain
	// (failure states are nearer the root, so they are done first)
	outsOf := make([][]int32, n)
	for _, s := range order {
		var o []int32
		if own[s] >= 0 {
			o = append(o, own[s])
		}
		outsOf[s] = append(o, outsOf[fail[s]]...)
	}
	// renumber: states without outputs first (the root stays 0), each
	// part breadth-first (order is breadth-first, the root not in it)
	num := make([]uint32, n)
	k := uint32(0)
	bfs := append([]int32{0}, order...)
	for pass := 0; pass < 2; pass++ {
		for _, s := range bfs {
			if (len(outsOf[s]) > 0) == (pass == 1) {
				num[s] = k
				k++
			}
		}
		if pass == 0 {
			d.firstOut = k * uint32(nc)
		}
	}
	d.next = make([]uint16, n*nc)
	old := make([]int, n) // state of each number
	for s := 0; s < n; s++ {
		old[num[s]] = s
		for c := 0; c < nc; c++ {
			d.next[int(num[s])*nc+c] = uint16(num[next[s*nc+c]])
		}
	}
	d.outAt = make([]int32, n+1)
	for k := 0; k < n; k++ {
		d.outAt[k] = int32(len(d.outs))
		d.outs = append(d.outs, outsOf[old[k]]...)
	}
	d.outAt[n] = int32(len(d.outs))
	return d, nil
}

// Walk calls fn(end, n, pattern) for every keyword occurrence in text, in
// order of end (the index of its last byte), with its length n.
func Walk[T ~string | ~[]byte](d *Automaton, text T, fn func(end, n, pattern int)) {
	next, class, firstOut, nc := d.next, &d.class, d.firstOut, uint32(d.nclass)
	s := uint32(0) // state number × nclass
	for i := 0; i < len(text); i++ {
		s = uint32(next[s+uint32(class[text[i]])]) * nc
		if s >= firstOut {
			k := s / nc
			for _, p := range d.outs[d.outAt[k]:d.outAt[k+1]] {
				fn(i, int(d.plen[p]), int(p))
			}
		}
	}
}

// Contains reports whether any pattern occurs in text.
func Contains[T ~string | ~[]byte](d *Automaton, text T) bool {
	next, class, firstOut, nc := d.next, &d.class, d.firstOut, uint32(d.nclass)
	s := uint32(0)
	for i := 0; i < len(text); i++ {
		s = uint32(next[s+uint32(class[text[i]])]) * nc
		if s >= firstOut {
			return true
		}
	}
	return false
}

// Bytes is the memory the automaton's tables take.
func (d *Automaton) Bytes() int {
	return len(d.class) + 2*len(d.next) + 4*(len(d.outAt)+len(d.outs)+len(d.plen))
}

// Footprint is how many 64-byte lines and 4 KiB pages of the transition
// table a walk over text reads (what a cold cache fetches).
func (d *Automaton) Footprint(text string) (lines, pages int) {
	ls, ps := map[int]bool{}, map[int]bool{}
	s := 0
	for i := 0; i < len(text); i++ {
		at := s + int(d.class[text[i]])
		ls[at*2/64], ps[at*2/4096] = true, true
		s = int(d.next[at]) * d.nclass
	}
	return len(ls), len(ps)
}
