package model

import (
	"math"
	"math/rand/v2"
)

// Example is one training example: the bucket indices of its features, its
// label (0 or 1) and its weight. The feature vector is scaled by
// 1/sqrt(len(Idx)). The detector scores binary feature vectors (see Trace),
// so Idx normally lists each bucket once (Distinct); a bucket listed twice
// counts twice, as it does in the detector's whole-text score when a
// decoded variant shares it with the text.
type Example struct {
	Idx    []uint32
	Label  float64
	Weight float64
}

// PrevOccurrence returns, for every position k of idx, the last position
// before k holding the same bucket, or -1: the same links Trace records,
// from which Distinct reads the buckets of any range.
func PrevOccurrence(idx []uint32) []int32 {
	last := make(map[uint32]int32, len(idx))
	prev := make([]int32, len(idx))
	for k, i := range idx {
		p, ok := last[i]
		if !ok {
			p = -1
		}
		prev[k] = p
		last[i] = int32(k)
	}
	return prev
}

// Distinct appends to dst the distinct buckets of idx[lo:hi] (each at its
// first occurrence in the range), given prev from PrevOccurrence(idx).
func Distinct(dst []uint32, idx []uint32, prev []int32, lo, hi int) []uint32 {
	for k := lo; k < hi; k++ {
		if prev[k] < int32(lo) {
			dst = append(dst, idx[k])
		}
	}
	return dst
}

// LinearConfig tunes TrainLinear.
type LinearConfig struct {
	Bits   uint8
	Epochs int
	LR     float64 // AdaGrad base learning rate
	L2     float64 // L2 penalty per update on the touched weights
	Seed   uint64  // shuffling seed
}

// TrainLinear fits logistic regression on the examples with AdaGrad SGD in a
// seeded, fixed order. It is deterministic: the same examples and config
// give bit-identical weights (explicit float64 conversions keep the compiler
// from fusing multiply-adds differently on different architectures).
func TrainLinear(ex []Example, cfg LinearConfig) (w []float64, bias float64) {
	w = make([]float64, 1<<cfg.Bits)
	g2 := make([]float64, 1<<cfg.Bits)
	var gb float64
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	const eps = 1e-8
	epochs(ex, cfg.Epochs, rng, func(e *Example, inv float64) {
		z := bias
		for _, i := range e.Idx {
			z += float64(w[i] * inv)
		}
		g := float64((Sigmoid(z) - e.Label) * e.Weight)
		gi := float64(g * inv)
		for _, i := range e.Idx {
			d := float64(gi + float64(cfg.L2*w[i]))
			g2[i] += float64(d * d)
			w[i] -= float64(cfg.LR * d / math.Sqrt(g2[i]+eps))
		}
		gb += float64(g * g)
		bias -= float64(cfg.LR * g / math.Sqrt(gb+eps))
	})
	return w, bias
}

// epochs calls f for every example with features, epochs times, in an
// order shuffled by rng before each epoch, with the example's scale
// 1/sqrt(len(Idx)).
func epochs(ex []Example, n int, rng *rand.Rand, f func(e *Example, inv float64)) {
	order := make([]int, len(ex))
	for i := range order {
		order[i] = i
	}
	for epoch := 0; epoch < n; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			if e := &ex[k]; len(e.Idx) > 0 {
				f(e, 1/math.Sqrt(float64(len(e.Idx))))
			}
		}
	}
}

// Quantize turns float weights into a Model with int8 weights (one scale
// for all, symmetric around zero; weights that round to zero are pruned).
func Quantize(w []float64, bias float64, bits uint8, feats Features) *Model {
	var mx float64
	for _, v := range w {
		mx = max(mx, math.Abs(v))
	}
	scale := mx / 127
	if scale == 0 {
		scale = 1
	}
	m := &Model{Bits: bits, Features: feats, Scale: float32(scale), Bias: float32(bias), W: make([]int8, len(w))}
	for i, v := range w {
		q := math.Round(v / scale)
		m.W[i] = int8(max(-127, min(127, q)))
	}
	return m
}

// TrainLogistic fits a small dense logistic regression (the stacker) by
// full-batch gradient descent with an L2 penalty: deterministic and exact
// enough for a handful of inputs.
func TrainLogistic(x [][]float64, y, weight []float64, l2 float64, iters int) (coef []float64, bias float64) {
	if len(x) == 0 {
		return nil, 0
	}
	d := len(x[0])
	coef = make([]float64, d)
	grad := make([]float64, d)
	// Adam-free: plain GD with a step chosen for standardised-ish inputs.
	const step = 0.5
	var wsum float64
	for _, v := range weight {
		wsum += v
	}
	for it := 0; it < iters; it++ {
		for j := range grad {
			grad[j] = 0
		}
		var gb float64
		for i, row := range x {
			z := bias
			for j, v := range row {
				z += float64(coef[j] * v)
			}
			g := float64((Sigmoid(z) - y[i]) * weight[i])
			for j, v := range row {
				grad[j] += float64(g * v)
			}
			gb += g
		}
		for j := range coef {
			coef[j] -= float64(step * (grad[j]/wsum + float64(l2*coef[j])))
		}
		bias -= float64(step * gb / wsum)
	}
	return coef, bias
}
