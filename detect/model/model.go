package model

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Model is a linear classifier over hashed features (int8 weights with one
// scale) plus a small logistic "stacker" that turns the detector's signals
// (whole-text and best-window model scores, rule hits, special tokens, ...)
// into one calibrated probability, and the decision thresholds chosen on the
// dev split.
type Model struct {
	Bits  uint8
	Scale float32 // weight = W[i] * Scale
	Bias  float32
	W     []int8
	// Stack are the stacker's coefficients, one per signal (see package
	// detect for their order), and StackBias its intercept.
	Stack     []float32
	StackBias float32
	// Thresholds on the calibrated score: user text, and untrusted content
	// (documents, tool results).
	UserThreshold      float32
	UntrustedThreshold float32
}

const (
	magic   = "RPIM"
	version = 1
)

// Marshal encodes the model in its binary file format (little endian):
// "RPIM", u16 version, u8 bits, u8 len(Stack), f32 scale, f32 bias,
// f32 stack bias, f32 user threshold, f32 untrusted threshold,
// f32 × len(Stack), i8 × 2^bits.
func (m *Model) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	le := binary.LittleEndian
	var tmp [4]byte
	le.PutUint16(tmp[:2], version)
	b.Write(tmp[:2])
	b.WriteByte(m.Bits)
	b.WriteByte(uint8(len(m.Stack)))
	f := func(v float32) { le.PutUint32(tmp[:], math.Float32bits(v)); b.Write(tmp[:]) }
	f(m.Scale)
	f(m.Bias)
	f(m.StackBias)
	f(m.UserThreshold)
	f(m.UntrustedThreshold)
	for _, v := range m.Stack {
		f(v)
	}
	for _, w := range m.W {
		b.WriteByte(byte(w))
	}
	return b.Bytes()
}

// Unmarshal decodes a model written by Marshal.
func Unmarshal(data []byte) (*Model, error) {
	const head = 4 + 2 + 1 + 1 + 5*4
	if len(data) < head || string(data[:4]) != magic {
		return nil, errors.New("model: not a rampart injection model")
	}
	le := binary.LittleEndian
	if v := le.Uint16(data[4:6]); v != version {
		return nil, fmt.Errorf("model: unsupported version %d", v)
	}
	m := &Model{Bits: data[6]}
	if m.Bits < 8 || m.Bits > 24 {
		return nil, fmt.Errorf("model: bad hash size 2^%d", m.Bits)
	}
	ns := int(data[7])
	f := func(off int) float32 { return math.Float32frombits(le.Uint32(data[off:])) }
	m.Scale, m.Bias, m.StackBias = f(8), f(12), f(16)
	m.UserThreshold, m.UntrustedThreshold = f(20), f(24)
	want := head + 4*ns + 1<<m.Bits
	if len(data) != want {
		return nil, fmt.Errorf("model: size %d, want %d", len(data), want)
	}
	m.Stack = make([]float32, ns)
	for i := range m.Stack {
		m.Stack[i] = f(head + 4*i)
	}
	m.W = make([]int8, 1<<m.Bits)
	off := head + 4*ns
	for i := range m.W {
		m.W[i] = int8(data[off+i])
	}
	for _, v := range append([]float32{m.Scale, m.Bias, m.StackBias, m.UserThreshold, m.UntrustedThreshold}, m.Stack...) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, errors.New("model: non-finite parameter")
		}
	}
	return m, nil
}

//go:embed weights.bin
var embedded []byte

// EmbeddedBytes returns the committed model file (do not modify).
func EmbeddedBytes() []byte { return embedded }

// Embedded decodes the committed model.
func Embedded() (*Model, error) { return Unmarshal(embedded) }

// Hash is the hex SHA-256 of b (used by the manifest).
func Hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Feature vectors are binary: a bucket counts once in a scored span (the
// whole text, a sentence window, a decoded variant) however often its
// features occur there, and the vector is scaled by its exact L2 norm,
// 1/sqrt(distinct buckets). Repeating a word or a text therefore changes
// neither the whole-text nor any window's score ("hello "×2000 scores as
// "hello"), and training (package detect) builds its examples the same way
// from PrevOccurrence.

// Trace holds one text's features for window scoring: per feature, the end
// offset of its token, its int8 weight and the position of the previous
// feature with the same bucket, from which the distinct buckets of any span
// follow in one sequential pass. Reuse a Trace across calls to avoid
// allocation; it is not safe for concurrent use.
type Trace struct {
	m    *Model
	end  []int32
	w    []int8
	prev []int32 // previous position with the same bucket, or -1
	// last[idx] is 1 + the last position of bucket idx in the current text
	// (0: not seen); reset after each text through touched.
	last    []int32
	touched []uint32
	sum     int32 // Σ W over distinct buckets of the whole text
	raw     rawFeatures
}

// record traces a batch of raw features: the hot loop of Trace, with no
// interface call and the slices grown once.
func (t *Trace) record(r *rawFeatures, mask, domain uint32) {
	per := 1
	if domain != 0 {
		per = 2
	}
	n := len(r.h) * per
	if cap(t.end) < n {
		t.end, t.w, t.prev = make([]int32, 0, n), make([]int8, 0, n), make([]int32, 0, n)
	}
	end, wk, prev := t.end[:n], t.w[:n], t.prev[:n]
	w, last, touched := t.m.W, t.last, t.touched
	var sum int32
	k := 0
	one := func(e int32, idx uint32) {
		end[k] = e
		wk[k] = w[idx]
		p := last[idx]
		if p == 0 {
			touched = append(touched, idx)
			sum += int32(w[idx])
		}
		prev[k] = p - 1
		k++
		last[idx] = int32(k)
	}
	for i, h := range r.h {
		e := r.end[i]
		one(e, mix32(h)&mask)
		if domain != 0 {
			one(e, mix32(h^domain)&mask)
		}
	}
	t.end, t.w, t.prev, t.touched, t.sum = end, wk, prev, touched, sum
}

// Trace featurises text (domain: 0 or DomainUntrusted) and records it into
// t.
func (m *Model) Trace(text string, domain uint32, t *Trace) {
	t.m = m
	if len(t.last) != len(m.W) {
		t.last = make([]int32, len(m.W))
		t.touched = t.touched[:0]
	}
	for _, i := range t.touched {
		t.last[i] = 0
	}
	t.touched, t.sum = t.touched[:0], 0
	t.raw.reset()
	t.raw.run(text)
	t.record(&t.raw, uint32(1)<<m.Bits-1, domain)
}

// Len is the number of features recorded (with repetition).
func (t *Trace) Len() int { return len(t.end) }

// Range returns the weight sum and number of the distinct buckets of the
// features whose token ends within the byte range (a, b] of the featurised
// text.
func (t *Trace) Range(a, b int) (sum int32, n int) {
	lo := sort.Search(len(t.end), func(k int) bool { return int(t.end[k]) > a })
	hi := sort.Search(len(t.end), func(k int) bool { return int(t.end[k]) > b })
	l := int32(lo)
	prev, w := t.prev[lo:hi], t.w[lo:hi]
	w = w[:len(prev)]
	var cnt int32
	for k, p := range prev {
		// first occurrence in the range: p < l, i.e. p-l negative
		// (branch-free: the outcome is unpredictable)
		f := (p - l) >> 31 // -1 if so, else 0
		sum += f & int32(w[k])
		cnt -= f
	}
	return sum, int(cnt)
}

// Chain scores the windows of contiguous byte ranges (bounds[0], bounds[1]],
// (bounds[1], bounds[2]], …: it calls fn(a, b, sum, n) for every range and
// then every pair of neighbouring ranges, in text order (range 0, pair 0–1,
// range 1, pair 1–2, …), with what Range(a, b) returns, in one pass over the
// features instead of one per window.
func (t *Trace) Chain(bounds []int, fn func(a, b int, sum int32, n int)) {
	if len(bounds) < 2 {
		return
	}
	at := func(x int) int { return sort.Search(len(t.end), func(k int) bool { return int(t.end[k]) > x }) }
	lo := at(bounds[0])
	// the previous range: its first feature, distinct sum and count
	var pLo, pSum, pN int32 = -1, 0, 0
	for i := 1; i < len(bounds); i++ {
		hi := at(bounds[i])
		l := int32(lo)
		prev, w := t.prev[lo:hi], t.w[lo:hi]
		w = w[:len(prev)]
		var s, n, ps, pn int32
		for k, p := range prev {
			// first occurrence in this range (p < l) and in the pair with
			// the previous range (p < pLo); branch-free, the outcome is
			// unpredictable
			f, g := (p-l)>>31, (p-pLo)>>31 // -1 if so, else 0
			wk := int32(w[k])
			s += f & wk
			n -= f
			ps += g & wk
			pn -= g
		}
		if i > 1 {
			fn(bounds[i-2], bounds[i], pSum+ps, int(pN+pn))
		}
		fn(bounds[i-1], bounds[i], s, int(n))
		pLo, pSum, pN, lo = l, s, n, hi
	}
}

// All returns the weight sum and number of the distinct buckets of the
// whole text.
func (t *Trace) All() (sum int32, n int) { return t.sum, len(t.touched) }

// Logit turns the weight sum over n distinct buckets into the model's
// log-odds: the binary feature vector scaled by its L2 norm, 1/sqrt(n).
func (m *Model) Logit(sum int32, n int) float64 {
	if n == 0 {
		return float64(m.Bias)
	}
	return float64(m.Bias) + float64(m.Scale)*float64(sum)/math.Sqrt(float64(n))
}

// Calibrate applies the stacker to the detector's signals and returns a
// probability in [0, 1].
func (m *Model) Calibrate(signals []float64) float64 {
	z := float64(m.StackBias)
	for i, v := range signals {
		if i < len(m.Stack) {
			z += float64(m.Stack[i]) * v
		}
	}
	return Sigmoid(z)
}

// Sigmoid is the logistic function, safe for large |z|.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
