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
// domain is 0 for user text or DomainUntrusted. Per token the order is:
// the word (or punctuation run), the bigram with the previous word, then
// the word's character n-grams (or its long-word features).
func Featurize(text string, bits uint8, domain uint32, sink Sink) {
	FeaturizeSet(text, bits, 0, domain, sink)
}

// FeaturizeSet is Featurize with the optional feature families feats
// (after the character n-grams of each word).
func FeaturizeSet(text string, bits uint8, feats Features, domain uint32, sink Sink) {
	mask := uint32(1)<<bits - 1
	emit := func(end int, h uint32) {
		sink.Feature(end, mix32(h)&mask)
		if domain != 0 {
			sink.Feature(end, mix32(h^domain)&mask)
		}
	}
	z := tokenizer{text: text}
	var buf [maxTokenFeatures]uint32
	for {
		t, ok := z.next()
		if !ok {
			return
		}
		if !t.word {
			emit(t.end, t.h)
			continue
		}
		hs := buf[:t.features(buf[:], feats)]
		emit(t.end, hs[0])
		if t.hasBigram {
			emit(t.end, t.bigram)
		}
		for _, h := range hs[1:] {
			emit(t.end, h)
		}
	}
}

// maxTokenFeatures bounds the features of one token: a word has its
// unigram, a bigram and the character n-grams of "<word>" (fewer than three
// per byte of "<word>", which is at most maxCharGramWord+2 bytes).
const maxTokenFeatures = 2 + 3*(maxCharGramWord+2) + MaxWordClasses

// token is a word or a run of punctuation. Its feature hashes are unmixed:
// a feature's bucket is mix32(h) masked, or mix32(h^domain) for the
// domain-specific copy.
type token struct {
	word       bool   // a word; else a punctuation run
	start, end int    // byte offsets in the text
	h          uint32 // the word's or punctuation run's own feature
	bigram     uint32 // the bigram with the previous word, if hasBigram
	hasBigram  bool
	text       string // the word
}

// features writes the word's own features — h, then its character n-grams
// or its long-word features; not the bigram, which depends on the previous
// word — to dst (at least maxTokenFeatures long) and returns their number.
// They depend on the word's bytes only.
func (t *token) features(dst []uint32, feats Features) int {
	dst[0] = t.h
	if len(t.text) > maxCharGramWord {
		dst[1] = seedLong
		dst[2] = seedLongLen + uint32(min(len(t.text)/32, 16))
		return 3
	}
	n := 1 + charGrams(dst[1:], t.text)
	if feats&FeatWordClasses != 0 {
		for _, c := range wordClasses().lookup(t.h) {
			dst[n] = (seedClass ^ c) * fnvPrime
			n++
		}
	}
	return n
}

// tokenizer splits a text into tokens.
type tokenizer struct {
	text     string
	i        int
	prev     uint32 // hash of the previous word, for bigrams
	havePrev bool
}

// next returns the next token; ok is false at the end of the text.
func (z *tokenizer) next() (t token, ok bool) {
	ok = z.nextInto(&t)
	return t, ok
}

// nextInto is next writing the token to *t (every field: t need not be
// zero). A word is hashed in the pass that finds its end.
func (z *tokenizer) nextInto(t *token) bool {
	text := z.text
	n := len(text)
	i := z.i
	for i < n && byteClass[text[i]] == clsSpace {
		i++
	}
	if i >= n {
		z.i = n
		return false
	}
	if byteClass[text[i]] == clsPunct {
		j := i + 1
		for j < n && byteClass[text[j]] == clsPunct {
			j++
		}
		z.i = j
		// punctuation breaks bigrams
		z.havePrev = false
		*t = token{start: i, end: j, h: fnv(seedPunct, text[i:min(j, i+4)])}
		return true
	}
	hw := uint32(seedWord ^ 2166136261)
	j := i
	for ; j < n; j++ {
		c := text[j]
		if byteClass[c] != clsWord {
			break
		}
		hw = (hw ^ uint32(c)) * fnvPrime
	}
	z.i = j
	t.word, t.start, t.end, t.h, t.text = true, i, j, hw, text[i:j]
	t.bigram, t.hasBigram = 0, false
	if z.havePrev {
		t.bigram, t.hasBigram = z.prev*31+hw+seedBigram, true
	}
	z.prev, z.havePrev = hw, true
	return true
}

// charGrams writes the 3-, 4- and 5-grams of "<tok>" to dst (at least
// 3·(len(tok)+2) long), hashing each start position once and extending the
// hash byte by byte, and returns how many it wrote.
func charGrams(dst []uint32, tok string) int {
	var pad [maxCharGramWord + 2]byte
	pad[0] = '<'
	copy(pad[1:], tok)
	L := len(tok) + 2
	pad[L-1] = '>'
	p := pad[:L]
	k := 0
	for s := 0; s+3 <= L; s++ {
		h := uint32(seedChar ^ 2166136261)
		h = (h ^ uint32(p[s])) * fnvPrime
		h = (h ^ uint32(p[s+1])) * fnvPrime
		h = (h ^ uint32(p[s+2])) * fnvPrime
		dst[k] = h + 2
		k++
		if s+4 <= L {
			h = (h ^ uint32(p[s+3])) * fnvPrime
			dst[k] = h + 3
			k++
			if s+5 <= L {
				h = (h ^ uint32(p[s+4])) * fnvPrime
				dst[k] = h + 4
				k++
			}
		}
	}
	return k
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

// FewerWords reports whether text has fewer than n word tokens (as the
// tokenizer splits words); it stops reading at the n-th.
func FewerWords(text string, n int) bool {
	z := tokenizer{text: text}
	for n > 0 {
		t, ok := z.next()
		if !ok {
			return true
		}
		if t.word {
			n--
		}
	}
	return false
}
