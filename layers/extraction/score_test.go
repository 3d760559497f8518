package extraction

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestDiversityMatchesEntropy checks the table-driven entropy against the
// direct formula, and its extremes: one bucket gives 0, all distinct 1.
func TestDiversityMatchesEntropy(t *testing.T) {
	cfg := Defaults()
	sc := newScorer(cfg)
	r := rand.New(rand.NewPCG(3, 4))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for trial := 0; trial < 50; trial++ {
		var s state
		buckets := 1 + r.IntN(64)
		var f features
		for i := 0; i < cfg.History; i++ {
			sig := signature{sim: uint64(r.IntN(buckets)) << 58, raw: uint32(i), words: 1}
			f = sc.observe(&s, now, sig, true, baselines{1000, 1000})
		}
		var spread [64]int
		for _, e := range s.ring {
			spread[e.sim>>58]++
		}
		var h float64
		for _, c := range spread {
			if c > 0 {
				p := float64(c) / float64(len(s.ring))
				h -= p * math.Log(p)
			}
		}
		want := h / math.Log(64)
		if math.Abs(f.diversity-want) > 1e-9 {
			t.Fatalf("buckets %d: diversity %v, want %v", buckets, f.diversity, want)
		}
		if buckets == 1 && f.diversity != 0 {
			t.Fatalf("one bucket: %v", f.diversity)
		}
	}
	var s state
	var f features
	for i := 0; i < 64; i++ {
		f = sc.observe(&s, now, signature{sim: uint64(i) << 58, raw: uint32(i), words: 1}, true, baselines{1000, 1000})
	}
	if math.Abs(f.diversity-1) > 1e-9 || f.score != 0 {
		t.Fatalf("all distinct, below baseline: %+v", f)
	}
}
