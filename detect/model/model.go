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
	"sync"
)

// Model is a linear classifier over hashed features (int8 weights with one
// scale) plus a small logistic "stacker" that turns the detector's signals
// (whole-text and best-window model scores, rule hits, special tokens, ...)
// into one calibrated probability, and the decision thresholds (chosen at
// training time on out-of-fold scores of the train split pooled with the
// dev split's scores).
type Model struct {
	Bits uint8
	// Features are the optional feature families the model was trained
	// with (FeatWordClasses).
	Features Features
	Scale    float32 // weight = W[i] * Scale
	Bias     float32
	W        []int8
	// Stack are the stacker's coefficients, one per signal (see package
	// detect for their order), and StackBias its intercept.
	Stack     []float32
	StackBias float32
	// Thresholds on the calibrated score: user text, and untrusted content
	// (documents, tool results).
	UserThreshold      float32
	UntrustedThreshold float32

	// MLP is the optional neural model (FeatMLP); its log-odds are a
	// stacker signal.
	MLP *MLP

	// cells is W in the layout of Trace's table (generation 0), made on
	// first use; a Trace starts from a copy. W must not change after the
	// model was first used for a Trace.
	cellsOnce sync.Once
	cells     []uint32
}

// traceCells returns the initial contents of a Trace's table for m.
func (m *Model) traceCells() []uint32 {
	m.cellsOnce.Do(func() {
		m.cells = make([]uint32, len(m.W))
		for i, w := range m.W {
			m.cells[i] = uint32(uint8(w))
		}
	})
	return m.cells
}

const (
	magic   = "RPIM"
	version = 2
)

// Marshal encodes the model in its binary file format (little endian):
// "RPIM", u16 version, u8 bits, u8 len(Stack), f32 scale, f32 bias,
// f32 stack bias, f32 user threshold, f32 untrusted threshold,
// u8 features, 3 bytes zero, f32 × len(Stack), i8 × 2^bits. Version 1
// files (no features, no padding) are read too.
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
	b.Write([]byte{byte(m.Features), 0, 0, 0})
	for _, v := range m.Stack {
		f(v)
	}
	for _, w := range m.W {
		b.WriteByte(byte(w))
	}
	if m.Features&FeatMLP != 0 {
		n := m.MLP
		b.WriteByte(n.Bits)
		b.WriteByte(byte(n.H))
		f(n.Scale)
		f(n.B2)
		for j := 0; j < n.H; j++ {
			f(n.B1[j])
			f(n.W2[j])
		}
		for _, w := range n.E {
			b.WriteByte(byte(w))
		}
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
	v := le.Uint16(data[4:6])
	if v != 1 && v != version {
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
	hd := head
	if v >= 2 {
		hd += 4
	}
	want := hd + 4*ns + 1<<m.Bits
	if v >= 2 {
		m.Features = Features(data[head])
		if m.Features&^(FeatWordClasses|FeatMLP|FeatMLPChars) != 0 {
			return nil, fmt.Errorf("model: unknown features %#x", m.Features)
		}
	}
	if m.Features&FeatMLP != 0 {
		if len(data) < want+2 {
			return nil, errors.New("model: truncated MLP")
		}
		n := &MLP{Bits: data[want], H: int(data[want+1])}
		if n.Bits < 8 || n.Bits > 22 || n.H < 1 || n.H > 64 {
			return nil, errors.New("model: bad MLP shape")
		}
		off := want + 2
		if len(data) != off+8+8*n.H+n.H<<n.Bits {
			return nil, fmt.Errorf("model: size %d, want %d", len(data), off+8+8*n.H+n.H<<n.Bits)
		}
		n.Scale, n.B2 = f(off), f(off+4)
		off += 8
		n.B1, n.W2 = make([]float32, n.H), make([]float32, n.H)
		for j := 0; j < n.H; j++ {
			n.B1[j], n.W2[j] = f(off), f(off+4)
			off += 8
		}
		n.E = make([]int8, n.H<<n.Bits)
		for i := range n.E {
			n.E[i] = int8(data[off+i])
		}
		for _, v := range append(append([]float32{n.Scale, n.B2}, n.B1...), n.W2...) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, errors.New("model: non-finite parameter")
			}
		}
		m.MLP = n
		data = data[:want]
	}
	if len(data) != want {
		return nil, fmt.Errorf("model: size %d, want %d", len(data), want)
	}
	m.Stack = make([]float32, ns)
	for i := range m.Stack {
		m.Stack[i] = f(hd + 4*i)
	}
	m.W = make([]int8, 1<<m.Bits)
	off := hd + 4*ns
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
