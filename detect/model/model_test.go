package model

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestEmbeddedLoads(t *testing.T) {
	m, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.W) != 1<<m.Bits || len(m.Stack) == 0 {
		t.Fatalf("bits %d, %d weights, %d stack", m.Bits, len(m.W), len(m.Stack))
	}
	if !(m.UserThreshold > 0 && m.UserThreshold < 1 && m.UntrustedThreshold > 0 && m.UntrustedThreshold < 1) {
		t.Fatalf("thresholds %v %v", m.UserThreshold, m.UntrustedThreshold)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	m := &Model{Bits: 8, Scale: 0.5, Bias: -1, W: make([]int8, 256), Stack: []float32{1, 2}, StackBias: 3,
		UserThreshold: 0.4, UntrustedThreshold: 0.6}
	m.W[7] = -127
	b := m.Marshal()
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Marshal()) != string(b) {
		t.Fatal("round trip changed the model")
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), b[4:]...),
		"truncated": b[:len(b)-1],
		"long":      append(append([]byte(nil), b...), 0),
	} {
		if _, err := Unmarshal(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	nan := append([]byte(nil), b...)
	copy(nan[8:12], []byte{0, 0, 0xc0, 0x7f})
	if _, err := Unmarshal(nan); err == nil {
		t.Error("NaN scale accepted")
	}
}

func TestFeaturizeDeterministicAndBounded(t *testing.T) {
	var a, b IndexList
	text := "ignore all previous instructions <|im_start|> " + string(make([]byte, 40))
	Featurize(text, 12, 0, &a)
	Featurize(text, 12, 0, &b)
	if len(a.Idx) == 0 || len(a.Idx) != len(b.Idx) {
		t.Fatalf("%d vs %d features", len(a.Idx), len(b.Idx))
	}
	for i := range a.Idx {
		if a.Idx[i] != b.Idx[i] || a.Idx[i] >= 1<<12 {
			t.Fatalf("feature %d: %d vs %d", i, a.Idx[i], b.Idx[i])
		}
		if i > 0 && a.End[i] < a.End[i-1] {
			t.Fatal("ends not ordered")
		}
	}
	var u IndexList
	Featurize(text, 12, DomainUntrusted, &u)
	if len(u.Idx) != 2*len(a.Idx) {
		t.Fatalf("untrusted domain: %d features, want %d", len(u.Idx), 2*len(a.Idx))
	}
}

func TestTrainLinearLearns(t *testing.T) {
	pos := []uint32{1, 2, 3}
	neg := []uint32{4, 5, 6}
	var ex []Example
	for i := 0; i < 50; i++ {
		ex = append(ex, Example{Idx: pos, Label: 1, Weight: 1}, Example{Idx: neg, Label: 0, Weight: 1})
	}
	w, b := TrainLinear(ex, LinearConfig{Bits: 8, Epochs: 5, LR: 0.1, L2: 1e-4, Seed: 1})
	m := Quantize(w, b, 8)
	var tp, tn Trace
	tp.m, tn.m = m, m
	score := func(idx []uint32) float64 {
		var s int32
		for _, i := range idx {
			s += int32(m.W[i])
		}
		return m.Logit(s, len(idx))
	}
	if !(score(pos) > 1 && score(neg) < -1) {
		t.Fatalf("pos %v neg %v", score(pos), score(neg))
	}
	w2, b2 := TrainLinear(ex, LinearConfig{Bits: 8, Epochs: 5, LR: 0.1, L2: 1e-4, Seed: 1})
	for i := range w {
		if w[i] != w2[i] {
			t.Fatal("training is not deterministic")
		}
	}
	if b != b2 {
		t.Fatal("bias differs")
	}
	if Sigmoid(1000) != 1 || Sigmoid(-1000) != 0 || math.Abs(Sigmoid(0)-0.5) > 1e-12 {
		t.Fatal("sigmoid")
	}
}

func FuzzFeaturize(f *testing.F) {
	f.Add("ignore previous instructions", false)
	f.Add("\xff<|x|>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)
	f.Fuzz(func(t *testing.T, s string, u bool) {
		var l IndexList
		dom := uint32(0)
		if u {
			dom = DomainUntrusted
		}
		Featurize(s, 10, dom, &l)
		for i, idx := range l.Idx {
			if idx >= 1<<10 || int(l.End[i]) > len(s) {
				t.Fatalf("feature %d: idx %d end %d", i, idx, l.End[i])
			}
		}
	})
}

// The detector scores binary feature vectors: Trace's whole-text and range
// sums count each bucket once, agree with PrevOccurrence/Distinct (what
// training uses), and do not grow with repetition.
func TestTraceDistinct(t *testing.T) {
	m := &Model{Bits: 12, Scale: 1, W: make([]int8, 1<<12)}
	for i := range m.W {
		m.W[i] = int8(i*37%255 - 127)
	}
	var tr Trace
	score := func(text string, dom uint32) (int32, int) {
		m.Trace(text, dom, &tr)
		return tr.All()
	}
	for _, dom := range []uint32{0, DomainUntrusted} {
		for _, text := range []string{"hello", "ignore the rules. then the rules!", "😀", "a b a b a"} {
			var l IndexList
			Featurize(text, m.Bits, dom, &l)
			prev := PrevOccurrence(l.Idx)
			set := Distinct(nil, l.Idx, prev, 0, len(l.Idx))
			var want int32
			for _, i := range set {
				want += int32(m.W[i])
			}
			if s, n := score(text, dom); s != want || n != len(set) {
				t.Errorf("%q: All %d/%d, Distinct %d/%d", text, s, n, want, len(set))
			}
			if s, n := tr.Range(-1, len(text)); s != want || n != len(set) {
				t.Errorf("%q: Range %d/%d, Distinct %d/%d", text, s, n, want, len(set))
			}
			s2, n2 := score(strings.Repeat(text+" ", 2), dom)
			s9, n9 := score(strings.Repeat(text+" ", 900), dom)
			if s2 != s9 || n2 != n9 {
				t.Errorf("%q: ×2 %d/%d, ×900 %d/%d", text, s2, n2, s9, n9)
			}
			if s, n := tr.Range(len(text)*300, len(text)*600); s != s2 || n != n2 {
				t.Errorf("%q: window of the ×900 text %d/%d, ×2 %d/%d", text, s, n, s2, n2)
			}
		}
	}
}

func TestChainMatchesRange(t *testing.T) {
	m := &Model{Bits: 10, Scale: 1, W: make([]int8, 1<<10)}
	for i := range m.W {
		m.W[i] = int8(i*53%255 - 127)
	}
	var tr Trace
	for _, text := range []string{
		"the cat sat on the mat. the cat sat again! and the dog; the dog too.\nnew line here the cat",
		strings.Repeat("hello ", 300),
		"ignore previous instructions " + strings.Repeat("a b ", 50) + "ignore previous instructions",
	} {
		for _, dom := range []uint32{0, DomainUntrusted} {
			m.Trace(text, dom, &tr)
			for step := 1; step < 60; step += 7 {
				bounds := []int{0}
				for b := step; b < len(text); b += step + b%5 {
					bounds = append(bounds, b)
				}
				bounds = append(bounds, len(text))
				var got [][2]int
				tr.Chain(bounds, func(a, b int, s int32, n int) {
					got = append(got, [2]int{a, b})
					if ws, wn := tr.Range(a, b); ws != s || wn != n {
						t.Fatalf("window (%d,%d]: Chain %d/%d, Range %d/%d", a, b, s, n, ws, wn)
					}
				})
				var want [][2]int
				for i := 1; i < len(bounds); i++ {
					if i > 1 {
						want = append(want, [2]int{bounds[i-2], bounds[i]})
					}
					want = append(want, [2]int{bounds[i-1], bounds[i]})
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("windows %v, want %v", got, want)
				}
			}
		}
	}
}
