package model

// Feature vectors are binary: a bucket counts once in a scored span (the
// whole text, a sentence window, a decoded variant) however often its
// features occur there, and the vector is scaled by its exact L2 norm,
// 1/sqrt(distinct buckets). Repeating a word or a text therefore changes
// neither the whole-text nor any window's score ("hello "×2000 scores as
// "hello"), and training (package detect) builds its examples the same way
// from PrevOccurrence and Distinct.

// Window is the weight sum and number of distinct buckets of the features
// whose token ends within the byte range (A, B] of a traced text.
type Window struct {
	A, B int
	Sum  int32
	N    int
}

// Trace scores one text's features in a single pass over the text: the
// whole text and, given segment bounds, every segment and every pair of
// neighbouring segments (the detector's sentence windows). Reuse a Trace
// across calls to avoid allocation; it is not safe for concurrent use.
//
// Distinct buckets are found with a per-bucket stamp instead of a set per
// span. Each text takes a fresh range of generations — base for the text,
// then one per segment — and a bucket's cell holds the generation in which
// it was last seen, so a feature is new in the text, in its segment or in
// the pair of its segment and the previous one exactly when its cell's
// generation is below base, below its segment's or below the previous
// segment's; nothing is reset between texts. The cell also holds the
// bucket's weight, so a feature costs one load and one store in one table.
type Trace struct {
	m *Model
	// cell[idx] is gen<<8 | uint8(W[idx]).
	cell []uint32
	gen  uint32 // last generation used
	tok  tokenizer
	memo wordMemo
	wb   []uint32 // buckets of the current word, when not in the memo
	sum  int32
	n    int
	win  []Window
	// mlp collects the unmixed MLP feature hashes of the words (see
	// appendMLPHashes) when the model has an MLP, so that the MLP needs no
	// second pass over the text.
	mlp []uint32
}

// MLPHashes returns the MLP feature hashes of the last traced text (nil
// without an MLP); MLPFromHashes turns them into buckets.
func (t *Trace) MLPHashes() []uint32 { return t.mlp }

// maxGen is the largest generation a cell holds (24 bits); past it the
// cells are refilled.
const maxGen = 1<<24 - 1

// Trace featurises text (domain: 0 or DomainUntrusted) and scores it into
// t. bounds, when it has two or more entries, are increasing byte offsets
// that cut the text into the segments (bounds[0], bounds[1]],
// (bounds[1], bounds[2]], …; Windows then lists every segment and every
// pair of neighbouring segments. Features whose token ends outside
// (bounds[0], bounds[len-1]] count for the whole text only.
func (m *Model) Trace(text string, domain uint32, bounds []int, t *Trace) {
	nseg := max(len(bounds)-1, 0)
	if nseg+2 > maxGen {
		// more segments than generations (a text of over 16 MB, far past
		// every scan bound): score the whole text only
		bounds, nseg = nil, 0
	}
	if t.m != m || len(t.cell) != len(m.W) || int(t.gen)+nseg+2 > maxGen {
		t.reset(m)
	}
	base := t.gen + 1
	t.gen = base + uint32(nseg)
	t.tok = tokenizer{text: text}
	t.win = t.win[:0]
	t.mlp = t.mlp[:0]
	t.score(uint32(1)<<m.Bits-1, domain, base, bounds)
}

// reset fills the cells with m's weights and generation 0.
func (t *Trace) reset(m *Model) {
	if len(t.cell) != len(m.W) {
		t.cell = make([]uint32, len(m.W))
	}
	copy(t.cell, m.traceCells())
	t.m, t.gen = m, 0
}

// countOne is one bucket's count in a sum (see split).
const countOne = 1 << 32

// The sums are accumulated as weight (low 32 bits, two's complement) plus
// count<<32 in one int64, so adding a feature is one AND and one ADD.
func split(a int64) (sum int32, n int) {
	s := int32(a)
	return s, int((a - int64(s)) >> 32)
}

// score is the loop of Trace: token by token, it moves to the token's
// segment (emitting the windows of the segments it leaves), then scores
// the token's features.
func (t *Trace) score(mask, domain uint32, base uint32, bounds []int) {
	// sums: new in the text, in the segment, in the pair with the
	// previous segment
	var sums [3]int64
	var prev int64
	// i is the current segment (bounds[i-1], bounds[i]]; i == 0 before
	// the first, i == len(bounds) after the last: outside every segment,
	// where features get generation base and count for the whole text only.
	i, hi := 0, -1
	if len(bounds) >= 2 {
		hi = bounds[0]
	}
	// leave closes segment i (if it is one) and moves to segment i+1.
	leave := func() {
		if i >= 1 {
			if i > 1 {
				s, n := split(prev + sums[2])
				t.win = append(t.win, Window{A: bounds[i-2], B: bounds[i], Sum: s, N: n})
			}
			s, n := split(sums[1])
			t.win = append(t.win, Window{A: bounds[i-1], B: bounds[i], Sum: s, N: n})
			prev = sums[1]
		}
		sums[1], sums[2] = 0, 0
		i++
		if i < len(bounds) {
			hi = bounds[i]
		} else {
			hi = int(^uint(0) >> 1)
		}
	}
	t.memo.start(base)
	var tok token
	for t.tok.nextInto(&tok) {
		for tok.end > hi {
			leave()
		}
		g := base
		if i >= 1 && i < len(bounds) {
			g = base + uint32(i)
		}
		if !tok.word {
			// a punctuation run: one feature (and its domain copy)
			one(t.cell, mix32(tok.h)&mask, base, g, &sums)
			if domain != 0 {
				one(t.cell, mix32(tok.h^domain)&mask, base, g, &sums)
			}
			continue
		}
		if tok.hasBigram {
			one(t.cell, mix32(tok.bigram)&mask, base, g, &sums)
			if domain != 0 {
				one(t.cell, mix32(tok.bigram^domain)&mask, base, g, &sums)
			}
		}
		// the features of the word itself
		ix, last := t.wordBuckets(&tok, mask, domain, g)
		if t.m.MLP != nil {
			// The MLP's bag is a set (MLPFromHashes keeps each bucket
			// once) scored by integer sums, in which order does not
			// count: a word that occurred before in this text has added
			// its own hashes (and character features) already, only its
			// bigram can be new. A word the memo does not know (last is
			// 0) adds them all.
			if last >= base {
				if tok.hasBigram {
					t.mlp = append(t.mlp, tok.bigram)
				}
			} else {
				t.mlp = appendMLPHashes(t.mlp, &tok, t.m.Features)
			}
		}
		switch {
		case last == g:
			// the word occurred before in this span: its buckets all
			// have generation g already and add nothing
		case last >= base:
			// it occurred before in this text: none of its buckets is
			// new in the text
			seenCells(t.cell, ix, mask, g, &sums)
		default:
			cells(t.cell, ix, mask, base, g, &sums)
		}
	}
	for i < len(bounds) && len(bounds) >= 2 {
		leave()
	}
	t.sum, t.n = split(sums[0])
}

// wordBuckets returns the buckets of the features of a word itself (all
// but the bigram, with their domain copies) and the generation of the span
// where the word last occurred in this text (0 if it did not, or the memo
// does not know), recording g as its last occurrence: from the memo when
// the word occurred before, else hashed and remembered.
func (t *Trace) wordBuckets(tok *token, mask, domain, g uint32) (ix []uint32, last uint32) {
	if ix, last, ok := t.memo.find(tok.h, tok.text, t.tok.text, g); ok {
		return ix, last
	}
	var hs [maxTokenFeatures]uint32
	n := tok.features(hs[:], t.m.Features)
	ix = t.wb[:0]
	for _, h := range hs[:n] {
		ix = append(ix, mix32(h)&mask)
	}
	if domain != 0 {
		for _, h := range hs[:n] {
			ix = append(ix, mix32(h^domain)&mask)
		}
	}
	t.wb = ix
	t.memo.add(tok.h, tok.start, tok.end, ix, g)
	return ix, 0
}

// one is cells for one bucket.
func one(cell []uint32, i, base, g uint32, sums *[3]int64) {
	c := cell[i]
	cell[i] = g<<8 | c&0xff
	v := int64(int8(c)) + 1<<32
	sums[0] += (int64(c) - int64(base)<<8) >> 63 & v
	sums[1] += (int64(c) - int64(g)<<8) >> 63 & v
	sums[2] += (int64(c) - int64(g-1)<<8) >> 63 & v
}

// cells scores the buckets ix of one token in the span of generation g: it
// adds each feature to sums[0], sums[1] and sums[2] when it is new in the
// text, in the segment and in the pair with the previous segment, and
// stamps its cell with g. Outside every segment g is base, and sums[1] and
// sums[2] then collect nothing that is used.
func cells(cell, ix []uint32, mask, base, g uint32, sums *[3]int64) {
	_ = cell[mask]
	// compare whole cells (gen<<8 | weight byte) with gen<<8: a cell's
	// generation is below x exactly when the cell is below x<<8
	B, G, G1 := int64(base)<<8, int64(g)<<8, int64(g-1)<<8
	w, s, p := sums[0], sums[1], sums[2]
	for _, i := range ix {
		c := cell[i&mask]
		cell[i&mask] = uint32(G) | c&0xff
		v := int64(int8(c)) + 1<<32
		w += (int64(c) - B) >> 63 & v
		s += (int64(c) - G) >> 63 & v
		p += (int64(c) - G1) >> 63 & v
	}
	sums[0], sums[1], sums[2] = w, s, p
}

// seenCells is cells for buckets known not to be new in the text (they all
// have a generation of this text already).
func seenCells(cell, ix []uint32, mask, g uint32, sums *[3]int64) {
	sums[1], sums[2] = seenSums(cell, ix, mask, int64(g)<<8, sums[1], sums[2], countOne)
}

// seenSums is the loop of seenCells: G is the segment's generation shifted
// to compare with whole cells (G - 1<<8 is the previous segment's); it
// returns s and p with the buckets new in the segment and in the pair
// added. one is countOne (a parameter, so that it stays in a register).
//
//go:noinline
func seenSums(cell, ix []uint32, mask uint32, G, s, p, one int64) (int64, int64) {
	_ = cell[mask]
	for _, i := range ix {
		c := int64(cell[i&mask])
		cell[i&mask] = uint32(G | c&0xff)
		v := int64(int8(c)) + one
		s += (c - G) >> 63 & v
		p += (c - G + 1<<8) >> 63 & v
	}
	return s, p
}

// All returns the weight sum and number of the distinct buckets of the
// whole text.
func (t *Trace) All() (sum int32, n int) { return t.sum, t.n }

// Windows returns every segment and every pair of neighbouring segments of
// the last traced text, in text order (segment 0, pair 0–1, segment 1, pair
// 1–2, …). The slice is reused by the next call to Trace.
func (t *Trace) Windows() []Window { return t.win }
