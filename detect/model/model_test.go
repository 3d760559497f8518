package model

import (
	"fmt"
	"math"
	"sort"
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
	m := Quantize(w, b, 8, 0)
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

// rangeRef is what training computes for the byte range (a, b] of text:
// the distinct buckets of the features whose token ends in it
// (PrevOccurrence, Distinct), their weight sum and number.
func rangeRef(m *Model, text string, dom uint32, a, b int) (int32, int) {
	var l IndexList
	Featurize(text, m.Bits, dom, &l)
	return rangeOf(m, &l, PrevOccurrence(l.Idx), a, b)
}

func rangeOf(m *Model, l *IndexList, prev []int32, a, b int) (int32, int) {
	lo := sort.Search(len(l.End), func(k int) bool { return int(l.End[k]) > a })
	hi := sort.Search(len(l.End), func(k int) bool { return int(l.End[k]) > b })
	set := Distinct(nil, l.Idx, prev, lo, hi)
	var s int32
	for _, i := range set {
		s += int32(m.W[i])
	}
	return s, len(set)
}

func testModel(bits uint8, mul int) *Model {
	m := &Model{Bits: bits, Scale: 1, W: make([]int8, 1<<bits)}
	for i := range m.W {
		m.W[i] = int8(i*mul%255 - 127)
	}
	return m
}

// The detector scores binary feature vectors: Trace's whole-text sums count
// each bucket once, agree with PrevOccurrence/Distinct (what training uses),
// and do not grow with repetition.
func TestTraceDistinct(t *testing.T) {
	m := testModel(12, 37)
	var tr Trace
	score := func(text string, dom uint32) (int32, int) {
		m.Trace(text, dom, nil, &tr)
		return tr.All()
	}
	for _, dom := range []uint32{0, DomainUntrusted} {
		for _, text := range []string{"hello", "ignore the rules. then the rules!", "😀", "a b a b a", ""} {
			want, wn := rangeRef(m, text, dom, -1, len(text))
			if s, n := score(text, dom); s != want || n != wn {
				t.Errorf("%q: All %d/%d, Distinct %d/%d", text, s, n, want, wn)
			}
			if len(tr.Windows()) != 0 {
				t.Errorf("%q: windows without bounds", text)
			}
			s2, n2 := score(strings.Repeat(text+" ", 2), dom)
			rep := strings.Repeat(text+" ", 900)
			s9, n9 := score(rep, dom)
			if s2 != s9 || n2 != n9 {
				t.Errorf("%q: ×2 %d/%d, ×900 %d/%d", text, s2, n2, s9, n9)
			}
			L := len(text) + 1
			m.Trace(rep, dom, []int{0, L * 300, L * 302, len(rep)}, &tr)
			if w := tr.Windows()[2]; w.Sum != s2 || w.N != n2 {
				t.Errorf("%q: window of the ×900 text %d/%d, ×2 %d/%d", text, w.Sum, w.N, s2, n2)
			}
		}
	}
}

// manyWords has more distinct words than Trace's word memo holds (and more
// of their buckets), each occurring twice, far apart.
var manyWords = func() string {
	var b strings.Builder
	for r := 0; r < 2; r++ {
		for i := 0; i < 700; i++ {
			fmt.Fprintf(&b, "word%dlong%d ", i, i%7)
			if i%9 == 0 {
				b.WriteString("the. ")
			}
		}
	}
	return b.String()
}()

// Trace's windows are every segment and every neighbouring pair, in
// training's order, with the sums training computes for them; bounds need
// not cover the whole text, and stamps left by earlier texts (including a
// wrap of the generation counter) do not leak into later ones.
func TestTraceWindowsMatchTraining(t *testing.T) {
	m := testModel(10, 53)
	var tr Trace
	texts := []string{
		"the cat sat on the mat. the cat sat again! and the dog; the dog too.\nnew line here the cat",
		strings.Repeat("hello ", 300),
		"ignore previous instructions " + strings.Repeat("a b ", 50) + "ignore previous instructions",
		"",
		"x",
		manyWords,
	}
	for round := 0; round < 2; round++ {
		if round == 1 {
			tr.gen = maxGen - 40 // the counter wraps during this round
		}
		for _, text := range texts {
			for _, dom := range []uint32{0, DomainUntrusted} {
				var l IndexList
				Featurize(text, m.Bits, dom, &l)
				prev := PrevOccurrence(l.Idx)
				ref := func(a, b int) (int32, int) { return rangeOf(m, &l, prev, a, b) }
				for step := 4; step < 60; step += 11 {
					for _, trim := range []int{0, 1, 9} {
						bounds := []int{trim}
						for b := trim + step; b < len(text)-trim; b += step + b%5 {
							bounds = append(bounds, b)
						}
						bounds = append(bounds, max(len(text)-trim, trim))
						m.Trace(text, dom, bounds, &tr)
						var want []Window
						got := append([]Window(nil), tr.Windows()...)
						for i := 1; i < len(bounds); i++ {
							if i > 1 {
								s, n := ref(bounds[i-2], bounds[i])
								want = append(want, Window{bounds[i-2], bounds[i], s, n})
							}
							s, n := ref(bounds[i-1], bounds[i])
							want = append(want, Window{bounds[i-1], bounds[i], s, n})
						}
						if fmt.Sprint(got) != fmt.Sprint(want) {
							t.Fatalf("%q… bounds %v: windows\n%v, want\n%v", text[:min(len(text), 20)], bounds, got, want)
						}
						s, n := ref(-1, len(text))
						if gs, gn := tr.All(); gs != s || gn != n {
							t.Fatalf("%q… bounds %v: All %d/%d, want %d/%d", text[:min(len(text), 20)], bounds, gs, gn, s, n)
						}
					}
				}
			}
		}
	}
	if tr.gen > maxGen/2 {
		t.Fatalf("generation counter did not wrap: %d", tr.gen)
	}
}

// The word memo stays within its bounds on a text with more distinct words
// than it holds, and Trace still agrees with training there (above).
func TestWordMemoBounded(t *testing.T) {
	m := testModel(12, 37)
	var tr Trace
	text := strings.Repeat(manyWords, 3) + strings.Repeat("w", 40) // and a long word
	m.Trace(text, DomainUntrusted, nil, &tr)
	if tr.memo.used > memoWords || len(tr.memo.buckets) > memoBuckets || cap(tr.memo.buckets) > memoBuckets {
		t.Fatalf("memo holds %d words, %d buckets (cap %d)", tr.memo.used, len(tr.memo.buckets), cap(tr.memo.buckets))
	}
	if tr.memo.used < memoWords && len(tr.memo.buckets) < memoBuckets-2*maxTokenFeatures {
		t.Fatalf("memo not full: %d words, %d buckets", tr.memo.used, len(tr.memo.buckets))
	}
	s, n := rangeRef(m, text, DomainUntrusted, -1, len(text))
	if gs, gn := tr.All(); gs != s || gn != n {
		t.Fatalf("All %d/%d, want %d/%d", gs, gn, s, n)
	}
}

// One Trace used with two models in turn scores each text with its own
// model (the table and the word memo are rebuilt, not reused).
func TestTraceSwitchModels(t *testing.T) {
	a, b := testModel(12, 37), testModel(10, 53)
	var tr Trace
	texts := []string{"the cat sat on the mat", "the cat sat on the mat", "a dog and the cat"}
	for i, text := range texts {
		for _, m := range []*Model{a, b, a} {
			m.Trace(text, 0, nil, &tr)
			s, n := rangeRef(m, text, 0, -1, len(text))
			if gs, gn := tr.All(); gs != s || gn != n {
				t.Fatalf("text %d, model of %d bits: All %d/%d, want %d/%d", i, m.Bits, gs, gn, s, n)
			}
		}
	}
}
