package detect

import "testing"

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
