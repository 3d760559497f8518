package pii

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/detect/pii/piigen"
)

// benchTexts are labelled-benchmark texts (dense in entities and hard
// negatives) and plain prose, the two ends of what answers hold.
func benchTexts() (dense, prose string) {
	var b strings.Builder
	for _, ex := range piigen.Generate(7, 400) {
		b.WriteString(ex.Text)
		b.WriteByte('\n')
	}
	p := strings.Repeat("To configure the service, open the settings page and choose a region. The gateway forwards requests to the upstream model in 2 steps. ", 64)
	return b.String(), p
}

func BenchmarkScanDense(b *testing.B) {
	s, _ := New(Config{})
	dense, _ := benchTexts()
	b.SetBytes(int64(len(dense)))
	for i := 0; i < b.N; i++ {
		s.Scan(dense)
	}
}

func BenchmarkScanProse(b *testing.B) {
	s, _ := New(Config{})
	_, prose := benchTexts()
	b.SetBytes(int64(len(prose)))
	for i := 0; i < b.N; i++ {
		s.Scan(prose)
	}
}
