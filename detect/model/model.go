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

// Trace holds one text's features for window scoring: per feature, the end
// offset of its token and the running sum of int8 weights. Reuse a Trace
// across calls to avoid allocation; it is not safe for concurrent use.
type Trace struct {
	m   *Model
	end []int32
	cum []int32 // cum[k] = Σ W of features [0, k)
	// counts per bucket (reset after each text through touched) give the
	// exact L2 norm of the whole text's count vector: Σ count².
	counts  []uint8          // saturating; over holds the excess
	over    map[uint32]int64 // counts beyond 255 (long repetitive texts)
	touched []uint32
	sumSq   int64
	raw     rawFeatures
}

// Feature implements Sink.
func (t *Trace) Feature(end int, idx uint32) {
	t.end = append(t.end, int32(end))
	t.cum = append(t.cum, t.cum[len(t.cum)-1]+int32(t.m.W[idx]))
	t.sumSq += t.bump(idx)
}

// bump counts one more occurrence of bucket idx and returns the growth of
// Σ count² (2c+1 for a bucket seen c times before).
func (t *Trace) bump(idx uint32) int64 {
	c := t.counts[idx]
	switch c {
	case 0:
		t.touched = append(t.touched, idx)
	case math.MaxUint8:
		if t.over == nil {
			t.over = make(map[uint32]int64)
		}
		x := t.over[idx]
		t.over[idx] = x + 1
		return 2*(int64(c)+x) + 1
	}
	t.counts[idx] = c + 1
	return 2*int64(c) + 1
}

// record is Feature for a batch of raw features: the hot loop of Trace,
// with no interface call and the slices grown once.
func (t *Trace) record(r *rawFeatures, mask, domain uint32) {
	per := 1
	if domain != 0 {
		per = 2
	}
	n := len(r.h) * per
	if cap(t.end) < n {
		t.end = make([]int32, 0, n)
	}
	if cap(t.cum) < n+1 {
		cum := make([]int32, 1, n+1)
		t.cum = cum
	}
	end, cum := t.end[:n], t.cum[:n+1]
	w, counts := t.m.W, t.counts
	acc, ss := cum[0], t.sumSq
	k := 0
	one := func(e int32, idx uint32) {
		end[k] = e
		acc += int32(w[idx])
		k++
		cum[k] = acc
		if c := counts[idx]; c != 0 && c != math.MaxUint8 {
			counts[idx] = c + 1
			ss += 2*int64(c) + 1
		} else {
			ss += t.bump(idx)
		}
	}
	for i, h := range r.h {
		e := r.end[i]
		one(e, mix32(h)&mask)
		if domain != 0 {
			one(e, mix32(h^domain)&mask)
		}
	}
	t.end, t.cum, t.sumSq = end, cum, ss
}

// Norm is the exact L2 norm of the traced text's feature counts.
func (t *Trace) Norm() float64 { return math.Sqrt(float64(t.sumSq)) }

// LogitNorm is Logit with an explicit feature-vector norm.
func (m *Model) LogitNorm(sum int32, norm float64) float64 {
	if norm == 0 {
		return float64(m.Bias)
	}
	return float64(m.Bias) + float64(m.Scale)*float64(sum)/norm
}

// Trace featurises text (domain: 0 or DomainUntrusted) and records its
// prefix sums into t.
func (m *Model) Trace(text string, domain uint32, t *Trace) {
	t.m = m
	t.end = t.end[:0]
	if cap(t.cum) == 0 {
		t.cum = make([]int32, 1, 256)
	}
	t.cum = t.cum[:1]
	t.cum[0] = 0
	if len(t.counts) != len(m.W) {
		t.counts = make([]uint8, len(m.W))
		t.touched = t.touched[:0]
	}
	for _, i := range t.touched {
		t.counts[i] = 0
	}
	clear(t.over)
	t.touched, t.sumSq = t.touched[:0], 0
	t.raw.reset()
	t.raw.run(text)
	t.record(&t.raw, uint32(1)<<m.Bits-1, domain)
}

// Len is the number of features recorded.
func (t *Trace) Len() int { return len(t.end) }

// Range returns the weight sum and count of the features whose token ends
// within the byte range (a, b] of the featurised text.
func (t *Trace) Range(a, b int) (sum int32, n int) {
	lo := sort.Search(len(t.end), func(k int) bool { return int(t.end[k]) > a })
	hi := sort.Search(len(t.end), func(k int) bool { return int(t.end[k]) > b })
	return t.cum[hi] - t.cum[lo], hi - lo
}

// All returns the weight sum and count of every feature.
func (t *Trace) All() (sum int32, n int) { return t.cum[len(t.cum)-1], len(t.end) }

// Logit turns a weight sum over n features into the model's log-odds. The
// feature vector is count-valued and scaled by 1/sqrt(n), which makes the
// score of any window a constant-time function of two prefix sums.
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
