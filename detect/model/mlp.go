package model

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"unsafe"
)

// MLP is a small neural model trained from scratch: a bag of hashed word
// features (word unigrams and bigrams, and the WordNet classes of each word
// when the model has FeatWordClasses), each counted once per text and the
// bag scaled by 1/sqrt(its size), embedded into H hidden units with int8
// weights, a ReLU, and a linear output. Unlike the linear model it can
// learn conjunctions ("ignore" with "instructions", "send" with an address
// in data), which is what a bag of n-grams lacks.
type MLP struct {
	Bits  uint8
	H     int
	Scale float32 // E[i] * Scale is the embedding weight
	E     []int8  // 2^Bits rows of H
	B1    []float32
	W2    []float32
	B2    float32
}

// seedMLP separates the MLP's hash space from the linear model's.
const seedMLP = 0x2545f491

// MLPScratch is per-call memory for MLP features (not safe for concurrent
// use).
type MLPScratch struct {
	stamp []uint32
	gen   uint32
}

// appendMLPHashes appends the unmixed MLP feature hashes of word token
// t: the word, the bigram with the previous word, and with
// FeatWordClasses the word's classes.
func appendMLPHashes(dst []uint32, t *token, feats Features) []uint32 {
	dst = append(dst, t.h)
	if t.hasBigram {
		dst = append(dst, t.bigram)
	}
	if feats&FeatWordClasses != 0 && len(t.text) <= maxCharGramWord {
		for _, c := range wordClasses().lookup(t.h) {
			dst = append(dst, (seedClass^c)*fnvPrime)
		}
	}
	if feats&FeatMLPChars != 0 {
		dst = appendCharHashes(dst, t.text)
	}
	return dst
}

// maxRunChars bounds the code points of a long word whose character
// n-grams the MLP gets.
const maxRunChars = 96

// appendCharHashes appends the MLP's character features of word w: the
// byte 3-, 4- and 5-grams of "<w>" (as the linear model's) for a word of at
// most maxCharGramWord bytes; for a longer one that is not ASCII — a
// run of Han, kana, Thai or other unspaced script, where a "word" is a
// clause — the code-point bigrams and trigrams of its first maxRunChars
// code points. Long ASCII runs (base64, hashes) get none.
func appendCharHashes(dst []uint32, w string) []uint32 {
	if len(w) <= maxCharGramWord {
		var buf [3 * (maxCharGramWord + 2)]uint32
		n := charGrams(buf[:], w)
		for _, h := range buf[:n] {
			dst = append(dst, h^seedMLPChar)
		}
		return dst
	}
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return dst
	}
	// code points as they start: p1, p2 the two previous
	var p1, p2 uint32
	k := 0
	for i := 0; i < len(w) && k < maxRunChars; {
		j := i + 1
		for j < len(w) && w[j]&0xc0 == 0x80 {
			j++
		}
		c := fnv(seedMLPChar, w[i:j])
		if k >= 1 {
			dst = append(dst, (p1*31+c)^seedMLPRun2)
		}
		if k >= 2 {
			dst = append(dst, ((p2*31+p1)*31+c)^seedMLPRun3)
		}
		p2, p1 = p1, c
		k++
		i = j
	}
	return dst
}

// Seeds of the MLP's character features.
const (
	seedMLPChar = 0x3c6ef372
	seedMLPRun2 = 0xa54ff53a
	seedMLPRun3 = 0x510e527f
)

// MLPFeatures appends to dst the distinct MLP buckets of text (2^bits
// buckets), with domain copies for untrusted text as in Featurize. It
// gives what MLPFromHashes gives for the hashes Trace collects.
func MLPFeatures(text string, bits uint8, feats Features, domain uint32, s *MLPScratch, dst []uint32) []uint32 {
	z := tokenizer{text: text}
	var hs []uint32
	for {
		t, ok := z.next()
		if !ok {
			break
		}
		if t.word {
			hs = appendMLPHashes(hs, &t, feats)
		}
	}
	return MLPFromHashes(hs, bits, domain, s, dst)
}

// MLPFromHashes appends to dst the distinct buckets of the MLP feature
// hashes hs (2^bits buckets; domain copies for untrusted text).
func MLPFromHashes(hs []uint32, bits uint8, domain uint32, s *MLPScratch, dst []uint32) []uint32 {
	mask := uint32(1)<<bits - 1
	if len(s.stamp) != 1<<bits {
		s.stamp, s.gen = make([]uint32, 1<<bits), 0
	}
	s.gen++
	if s.gen == 0 {
		clear(s.stamp)
		s.gen = 1
	}
	stamp, gen := s.stamp[:mask+1], s.gen
	for _, h := range hs {
		i := mix32(h^seedMLP) & mask
		if stamp[i] != gen {
			stamp[i] = gen
			dst = append(dst, i)
		}
		if domain != 0 {
			i = mix32(h^seedMLP^domain) & mask
			if stamp[i] != gen {
				stamp[i] = gen
				dst = append(dst, i)
			}
		}
	}
	return dst
}

// Logit scores the distinct buckets idx.
func (m *MLP) Logit(idx []uint32, s *MLPScratch) float64 {
	if len(idx) == 0 {
		return float64(m.B2)
	}
	H := m.H
	var acc [64]int32
	if H%8 == 0 && H <= 64 {
		m.sumRows(idx, acc[:H])
	} else {
		a := acc[:H]
		for _, i := range idx {
			row := m.E[int(i)*H : int(i)*H+H]
			for j, v := range row {
				a[j] += int32(v)
			}
		}
	}
	inv := float64(m.Scale) / math.Sqrt(float64(len(idx)))
	z := float64(m.B2)
	for j := 0; j < H; j++ {
		v := float64(m.B1[j]) + float64(acc[j])*inv
		if v > 0 {
			z += float64(m.W2[j]) * v
		}
	}
	return z
}

// SWAR summation of embedding rows (H a multiple of 8): eight int8
// weights are read as one little-endian uint64, biased to unsigned bytes
// (v+128, by flipping the top bit), and split into even and odd bytes, each
// four 16-bit lanes; 256 rows of bytes ≤ 255 cannot overflow a lane
// (255·256 < 65536), so lanes are flushed into int32 every 256 rows and the
// bias (128 per row) is taken off at the end. The sums are exact: the same
// integers as adding the weights one by one (TestMLPLogitBlocks).
const (
	swarMask = 0x00ff00ff00ff00ff
	swarFlip = 0x8080808080808080
)

// sumRows adds the rows idx of E into acc (len H, H%8 == 0, H ≤ 64).
func (m *MLP) sumRows(idx []uint32, acc []int32) {
	H := m.H
	words := H / 8
	e := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(m.E))), len(m.E))
	var ev, od [8]uint64
	for start := 0; start < len(idx); start += 256 {
		part := idx[start:min(start+256, len(idx))]
		if words == 4 {
			// H = 32, the committed model: unrolled
			for _, i := range part {
				row := e[int(i)*32 : int(i)*32+32]
				w0 := binary.LittleEndian.Uint64(row[0:]) ^ swarFlip
				w1 := binary.LittleEndian.Uint64(row[8:]) ^ swarFlip
				w2 := binary.LittleEndian.Uint64(row[16:]) ^ swarFlip
				w3 := binary.LittleEndian.Uint64(row[24:]) ^ swarFlip
				ev[0] += w0 & swarMask
				od[0] += w0 >> 8 & swarMask
				ev[1] += w1 & swarMask
				od[1] += w1 >> 8 & swarMask
				ev[2] += w2 & swarMask
				od[2] += w2 >> 8 & swarMask
				ev[3] += w3 & swarMask
				od[3] += w3 >> 8 & swarMask
			}
		} else {
			for _, i := range part {
				row := e[int(i)*H : int(i)*H+H]
				for q := 0; q < words; q++ {
					w := binary.LittleEndian.Uint64(row[8*q:]) ^ swarFlip
					ev[q] += w & swarMask
					od[q] += w >> 8 & swarMask
				}
			}
		}
		for q := 0; q < words; q++ {
			for l := 0; l < 4; l++ {
				acc[8*q+2*l] += int32(ev[q] >> (16 * l) & 0xffff)
				acc[8*q+2*l+1] += int32(od[q] >> (16 * l) & 0xffff)
			}
			ev[q], od[q] = 0, 0
		}
	}
	bias := int32(128 * len(idx))
	for j := range acc {
		acc[j] -= bias
	}
}

// MLPConfig tunes TrainMLP.
type MLPConfig struct {
	Bits   uint8
	H      int // at most 64
	Epochs int
	LR     float64 // AdaGrad base learning rate
	L2     float64
	Seed   uint64
}

// TrainMLP fits the MLP on examples (Idx: distinct MLP buckets) with
// AdaGrad SGD in a seeded order; deterministic like TrainLinear.
func TrainMLP(ex []Example, cfg MLPConfig) *MLP {
	H := cfg.H
	n := 1 << cfg.Bits
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d6c70))
	E := make([]float64, n*H)
	for i := range E {
		E[i] = float64((rng.Float64()*2 - 1) * 0.05)
	}
	gE := make([]float64, n*H)
	B1 := make([]float64, H)
	W2 := make([]float64, H)
	for j := range W2 {
		W2[j] = float64((rng.Float64()*2 - 1) / math.Sqrt(float64(H)))
	}
	gB1, gW2 := make([]float64, H), make([]float64, H)
	var B2, gB2 float64
	pre := make([]float64, H)
	dh := make([]float64, H)
	const eps = 1e-8
	step := func(w *float64, g2 *float64, g float64) {
		*g2 += float64(g * g)
		*w -= float64(cfg.LR * g / math.Sqrt(*g2+eps))
	}
	epochs(ex, cfg.Epochs, rng, func(e *Example, inv float64) {
		for j := range pre {
			pre[j] = 0
		}
		for _, i := range e.Idx {
			row := E[int(i)*H : int(i)*H+H]
			for j := range pre {
				pre[j] += row[j]
			}
		}
		z := B2
		for j := range pre {
			pre[j] = float64(B1[j] + float64(pre[j]*inv))
			if pre[j] > 0 {
				z += float64(W2[j] * pre[j])
			}
		}
		g := float64((Sigmoid(z) - e.Label) * e.Weight)
		for j := range pre {
			dh[j] = 0
			if pre[j] > 0 {
				dh[j] = float64(g * W2[j])
				step(&W2[j], &gW2[j], float64(g*pre[j]+float64(cfg.L2*W2[j])))
				step(&B1[j], &gB1[j], dh[j])
			}
		}
		step(&B2, &gB2, g)
		for _, i := range e.Idx {
			row := E[int(i)*H : int(i)*H+H]
			gr := gE[int(i)*H : int(i)*H+H]
			for j := range row {
				if dh[j] != 0 {
					step(&row[j], &gr[j], float64(dh[j]*inv+float64(cfg.L2*row[j])))
				}
			}
		}
	})
	var mx float64
	for _, v := range E {
		mx = max(mx, math.Abs(v))
	}
	scale := mx / 127
	if scale == 0 {
		scale = 1
	}
	m := &MLP{Bits: cfg.Bits, H: H, Scale: float32(scale), E: make([]int8, len(E)), B1: make([]float32, H), W2: make([]float32, H), B2: float32(B2)}
	for i, v := range E {
		m.E[i] = int8(max(-127, min(127, math.Round(v/scale))))
	}
	for j := 0; j < H; j++ {
		m.B1[j], m.W2[j] = float32(B1[j]), float32(W2[j])
	}
	return m
}
