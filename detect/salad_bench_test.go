package detect

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/detect/normalize"
)

// The token-salad pass alone over 2 KB of prose and of varied text (its
// share of BenchmarkScan2KB).
func BenchmarkSalad2KB(b *testing.B) {
	for i := 0; i < b.N; i++ {
		saladScan(benchPrompt)
	}
}

func BenchmarkSalad2KBVaried(b *testing.B) {
	t := variedText(b, 2<<10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		saladScan(t)
	}
}

// The word-salad pass alone over the same texts.
func BenchmarkWordSalad2KB(b *testing.B) {
	for i := 0; i < b.N; i++ {
		wordSaladScan(benchPrompt)
	}
}

func BenchmarkWordSalad2KBVaried(b *testing.B) {
	t := variedText(b, 2<<10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wordSaladScan(t)
	}
}

// The planted-action check alone over 2 KB (normalised once outside the
// loop; its share of BenchmarkScan2KBDocument).
func BenchmarkPlanted2KB(b *testing.B) {
	n := normalize.Normalize(benchPrompt, normOpts).Norm
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plantedCheck(n, nil)
	}
}

func BenchmarkPlanted2KBVaried(b *testing.B) {
	n := normalize.Normalize(variedText(b, 2<<10), normOpts).Norm
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plantedCheck(n, nil)
	}
}

// BenchmarkPlanted2KBMultilingual: the planted-action check on 2 KB of
// ordinary text in 18 languages (the benign rows of the per-language
// corpus), where every sentence is read by the non-English stems.
func BenchmarkPlanted2KBMultilingual(b *testing.B) {
	rows, err := ReadRows("testdata/multilingual.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for sb.Len() < 2<<10 {
		for _, r := range rows {
			if r.Label == 0 && sb.Len() < 2<<10 {
				sb.WriteString(r.Text + "\n")
			}
		}
	}
	n := normalize.Normalize(sb.String(), normOpts).Norm
	b.SetBytes(int64(len(n)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plantedCheck(n, nil)
	}
}
