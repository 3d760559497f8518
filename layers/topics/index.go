package topics

// wordIndex finds words of interest (first words of whole-word terms,
// example vocabulary) among the words of a text. A bitmap of (length,
// first byte) rejects almost every word before it is hashed, so the cost
// per byte of text is one table look-up.
type wordIndex struct {
	shape [maxShapeLen + 1][4]uint64 // bit first byte, per word length (capped)
	words map[uint64]*wordEntry      // by hashWord(fnvOffset, word)
}

// maxShapeLen caps the length dimension of the shape bitmap.
const maxShapeLen = 63

// wordEntry is what one word leads to.
type wordEntry struct {
	pats  []int // patterns (termSet.pats) whose first word this is
	vocab bool  // the word is in an example
}

func shapeLen(n int) int { return min(n, maxShapeLen) }

// add returns the entry of w (non-empty), creating it.
func (ix *wordIndex) add(w string) *wordEntry {
	h := hashWord(fnvOffset, w)
	e := ix.words[h]
	if e == nil {
		e = &wordEntry{}
		ix.words[h] = e
	}
	ix.shape[shapeLen(len(w))][w[0]>>6] |= 1 << (w[0] & 63)
	return e
}

// lookup returns the entry of the word s[ws:we] (non-empty), or nil. An
// entry is only a candidate: two words may share a hash, so callers check
// the text (terms) or accept a needless similarity check (vocabulary).
func (ix *wordIndex) lookup(s string, ws, we int) *wordEntry {
	c := s[ws]
	if ix.shape[shapeLen(we-ws)][c>>6]&(1<<(c&63)) == 0 {
		return nil
	}
	return ix.words[hashWord(fnvOffset, s[ws:we])]
}
