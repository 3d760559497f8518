package tokens

import (
	"strings"
	"testing"
)

var prompt2K = strings.Repeat("Please summarise the quarterly report and list the key risks. ", 33)

func BenchmarkCount2KB(b *testing.B) {
	for _, enc := range []string{CL100K, O200K} {
		b.Run(enc, func(b *testing.B) {
			if _, err := get(enc); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(prompt2K)))
			for b.Loop() {
				if _, err := CountEncoding(enc, prompt2K); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEstimate2KB(b *testing.B) {
	b.SetBytes(int64(len(prompt2K)))
	for b.Loop() {
		Estimate("gpt-4o", prompt2K)
	}
}
