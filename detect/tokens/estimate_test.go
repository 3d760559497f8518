package tokens_test

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/detect/tokens"
)

func TestEstimateSmall(t *testing.T) {
	cases := []struct {
		text     string
		min, max int
	}{
		{"", 0, 0},
		{"a", 1, 1},
		{"hello world", 2, 2},
		{"The quick brown fox jumps over the lazy dog.", 9, 11},
		{"Order 48213 ships on 2024-03-12.", 9, 14},
		{"日本語のテキストです", 6, 12},
		{strings.Repeat("word ", 400), 380, 420},
	}
	for _, c := range cases {
		for _, model := range []string{"gpt-4", "gpt-4o"} {
			if n := tokens.Estimate(model, c.text); n < c.min || n > c.max {
				t.Errorf("tokens.Estimate(%s, %q) = %d, want %d…%d (exact %d)", model, c.text, n, c.min, c.max, tokens.Count(model, c.text))
			}
		}
	}
}

// TestEstimateError measures Estimate against the exact count on texts the
// weights were not fitted on (tools/tokfit fits on the train split): the
// dev split of data/injection, and the repository's documentation. The
// bounds are those docs/PERFORMANCE.md states, with a little room.
func TestEstimateError(t *testing.T) {
	rows, err := detect.ReadRows(filepath.Join("..", "..", "data", "injection", "dev.jsonl"))
	if err != nil {
		t.Fatal("data/injection/dev.jsonl is part of the repository:", err)
	}
	var dev []string
	for _, r := range rows {
		dev = append(dev, r.Text)
	}
	docs, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	for _, p := range docs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dev = append(dev, string(b))
	}
	for _, model := range []string{"gpt-4", "gpt-4o"} {
		var sumEst, sumExact int
		var rel []float64
		for _, s := range dev {
			est, exact := tokens.Estimate(model, s), tokens.Count(model, s)
			if est > len(s) || est < 0 {
				t.Fatalf("estimate %d for %d bytes", est, len(s))
			}
			sumEst += est
			sumExact += exact
			if exact >= 20 {
				rel = append(rel, math.Abs(float64(est-exact))/float64(exact))
			}
		}
		sort.Float64s(rel)
		total := float64(sumEst-sumExact) / float64(sumExact)
		p50, p90 := rel[len(rel)/2], rel[len(rel)*9/10]
		t.Logf("%s: %d texts, total %+.1f%%, per text |error| p50 %.1f%%, p90 %.1f%%, max %.1f%%",
			model, len(dev), 100*total, 100*p50, 100*p90, 100*rel[len(rel)-1])
		if math.Abs(total) > 0.05 || p50 > 0.06 || p90 > 0.16 || rel[len(rel)-1] > 0.7 {
			t.Errorf("%s: estimate error beyond the documented bounds", model)
		}
	}
}

func FuzzEstimate(f *testing.F) {
	for _, s := range []string{"", "hello world", "it's 12345 o'clock", "  \n\t x", "\xff\xfe invalid", "日本語", "QmVsbGEgaGFz", "a1B2c3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, model := range []string{"gpt-4", "gpt-4o"} {
			n := tokens.Estimate(model, s)
			if n > len(s) || n < 0 || (s != "" && n == 0) {
				t.Fatalf("%s: estimate %d for %d bytes", model, n, len(s))
			}
		}
	})
}
