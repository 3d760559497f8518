package model

import "math"

// wordMemo remembers, for the words of the text being traced, the buckets
// of their features that depend on the word alone (the word itself and its
// character n-grams, with their domain copies), so a repeated word is not
// hashed again. It is
// bounded: past memoWords distinct words or memoBuckets buckets it stops
// remembering, and later words are hashed as if it were not there.
type wordMemo struct {
	gen     uint32 // the text's generation: entries of other texts are stale
	slots   []memoSlot
	used    int
	buckets []uint32
}

// memoSlot is one remembered word: its hash, its bytes (start, end in the
// text), its buckets (buckets[off:off+n]) and the generation of the span of
// its last occurrence.
type memoSlot struct {
	gen        uint32
	h          uint32
	last       uint32
	start, end int32
	off, n     int32
}

const (
	memoSlots   = 1024 // a power of two
	memoWords   = memoSlots / 2
	memoBuckets = 32 << 10
)

// start begins a text with generation gen (never the same for two texts
// between resets of the Trace).
func (m *wordMemo) start(gen uint32) {
	if m.slots == nil {
		m.slots = make([]memoSlot, memoSlots)
		m.buckets = make([]uint32, 0, memoBuckets)
	}
	if gen <= m.gen { // the Trace was reset: generations start again
		clear(m.slots)
	}
	m.gen, m.used, m.buckets = gen, 0, m.buckets[:0]
}

func memoSlotOf(h uint32) uint32 { return (h * 0x9e3779b1) >> 22 & (memoSlots - 1) }

// find returns the buckets remembered for word w (hash h) of text and the
// generation of its last occurrence, and records g as its last occurrence.
func (m *wordMemo) find(h uint32, w, text string, g uint32) (ix []uint32, last uint32, ok bool) {
	for k := memoSlotOf(h); ; k = (k + 1) & (memoSlots - 1) {
		e := &m.slots[k]
		if e.gen != m.gen {
			return nil, 0, false
		}
		if e.h == h && text[e.start:e.end] == w {
			last, e.last = e.last, g
			return m.buckets[e.off : e.off+e.n : e.off+e.n], last, true
		}
	}
}

// add remembers the buckets of the word text[start:end] (hash h), which
// occurs in the span of generation g, if there is room.
func (m *wordMemo) add(h uint32, start, end int, ix []uint32, g uint32) {
	if m.used >= memoWords || len(m.buckets)+len(ix) > memoBuckets || end > math.MaxInt32 {
		return
	}
	k := memoSlotOf(h)
	for m.slots[k].gen == m.gen {
		k = (k + 1) & (memoSlots - 1)
	}
	m.slots[k] = memoSlot{gen: m.gen, h: h, last: g, start: int32(start), end: int32(end), off: int32(len(m.buckets)), n: int32(len(ix))}
	m.buckets = append(m.buckets, ix...)
	m.used++
}
