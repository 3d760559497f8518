package model

// Feature extraction: hashed word unigrams and bigrams, runs of punctuation
// as tokens, and character 3-, 4- and 5-grams of each word padded with
// boundary marks ("<word>", as in fastText). Every feature is a bucket index
// in [0, 2^Bits). The same code serves training and inference, so a model is
// only ever scored with the features it was trained on.
//
// The text is expected to be normalised already (lower-cased, confusables
// folded, zero-width characters removed): see package detect.

// maxCharGramWord is the longest word (in bytes) whose character n-grams are
// emitted; longer runs (base64 blobs, hashes, minified code) produce one
// "long word" feature instead, which keeps the cost linear and the noise low.
const maxCharGramWord = 30

// Hash seeds, one per feature family, so that a word and a character n-gram
// with the same bytes land in different buckets.
const (
	seedWord    = 0x9e3779b1
	seedBigram  = 0x85ebca6b
	seedPunct   = 0xc2b2ae35
	seedChar    = 0x27d4eb2f
	seedLong    = 0x165667b1
	seedLongLen = 0xd3a2646c
)

func mix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

const fnvPrime = 16777619

func fnv(seed uint32, b string) uint32 {
	h := seed ^ 2166136261
	for i := 0; i < len(b); i++ {
		h ^= uint32(b[i])
		h *= fnvPrime
	}
	return h
}

// class of a byte for tokenisation.
const (
	clsSpace = iota
	clsWord
	clsPunct
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			t[c] = clsSpace
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c >= 0x80:
			t[c] = clsWord
		case c < 0x20 || c == 0x7f:
			t[c] = clsSpace
		default:
			t[c] = clsPunct
		}
	}
	return
}()

// Sink receives features in text order. end is the byte offset (in the
// featurised text) where the token that produced the feature ends; idx is
// the bucket. Tokens arrive with non-decreasing end.
type Sink interface {
	Feature(end int, idx uint32)
}

// DomainUntrusted marks text from documents and tool results: every
// feature is then emitted twice, once shared and once specific to untrusted
// content ("frustratingly easy" domain adaptation), so the model can learn
// that a plain request ("explain relativity") is normal from a user but an
// injected task inside data.
const DomainUntrusted uint32 = 0x6a09e667

// Featurize emits every feature of text to sink, using 2^bits buckets.
// domain is 0 for user text or DomainUntrusted.
func Featurize(text string, bits uint8, domain uint32, sink Sink) {
	var r rawFeatures
	r.run(text)
	r.each(uint32(1)<<bits-1, domain, sink.Feature)
}

// rawFeatures is the featuriser's output before bucketing: one unmixed hash
// per feature and the end offset of its token. Appending to two concrete
// slices keeps the hot loop free of interface calls and allocation (the
// slices are reused by whoever owns the rawFeatures).
type rawFeatures struct {
	h   []uint32
	end []int32
}

func (r *rawFeatures) reset() { r.h, r.end = r.h[:0], r.end[:0] }

func (r *rawFeatures) add(end int, h uint32) {
	r.h = append(r.h, h)
	r.end = append(r.end, int32(end))
}

// each calls fn with every feature's bucket, in text order: the shared
// bucket, then (for untrusted text) the domain-specific one.
func (r *rawFeatures) each(mask, domain uint32, fn func(end int, idx uint32)) {
	for k, h := range r.h {
		fn(int(r.end[k]), mix32(h)&mask)
		if domain != 0 {
			fn(int(r.end[k]), mix32(h^domain)&mask)
		}
	}
}

func (r *rawFeatures) run(text string) {
	var prev uint32
	havePrev := false
	n := len(text)
	i := 0
	for i < n {
		c := byteClass[text[i]]
		if c == clsSpace {
			i++
			continue
		}
		j := i + 1
		for j < n && byteClass[text[j]] == c {
			j++
		}
		tok := text[i:j]
		if c == clsPunct {
			if len(tok) > 4 {
				tok = tok[:4]
			}
			r.add(j, fnv(seedPunct, tok))
			// punctuation breaks bigrams
			havePrev = false
			i = j
			continue
		}
		hw := fnv(seedWord, tok)
		r.add(j, hw)
		if havePrev {
			r.add(j, prev*31+hw+seedBigram)
		}
		prev, havePrev = hw, true
		if len(tok) > maxCharGramWord {
			r.add(j, seedLong)
			r.add(j, seedLongLen+uint32(min(len(tok)/32, 16)))
		} else {
			r.charGrams(tok, j)
		}
		i = j
	}
}

// charGrams emits the 3-, 4- and 5-grams of "<tok>", hashing each start
// position once and extending the hash byte by byte.
func (r *rawFeatures) charGrams(tok string, end int) {
	var pad [maxCharGramWord + 2]byte
	pad[0] = '<'
	copy(pad[1:], tok)
	L := len(tok) + 2
	pad[L-1] = '>'
	p := pad[:L]
	for s := 0; s+3 <= L; s++ {
		h := uint32(seedChar ^ 2166136261)
		h = (h ^ uint32(p[s])) * fnvPrime
		h = (h ^ uint32(p[s+1])) * fnvPrime
		h = (h ^ uint32(p[s+2])) * fnvPrime
		r.add(end, h+2)
		if s+4 <= L {
			h = (h ^ uint32(p[s+3])) * fnvPrime
			r.add(end, h+3)
			if s+5 <= L {
				h = (h ^ uint32(p[s+4])) * fnvPrime
				r.add(end, h+4)
			}
		}
	}
}

// IndexList is a Sink that collects bucket indices and token ends.
type IndexList struct {
	Idx []uint32
	End []int32
}

// Feature implements Sink.
func (l *IndexList) Feature(end int, idx uint32) {
	l.Idx = append(l.Idx, idx)
	l.End = append(l.End, int32(end))
}

// Reset empties the list, keeping its storage.
func (l *IndexList) Reset() { l.Idx, l.End = l.Idx[:0], l.End[:0] }
