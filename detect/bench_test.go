package detect

import (
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/detect/model"
)

// benchPrompt is a ~2 KB ordinary prompt.
var benchPrompt = func() string {
	s := "I am writing a report for my manager about our quarterly results. Could you help me restructure the following notes into a clear summary with headings? " +
		strings.Repeat(filler, 6)
	return s[:2048]
}()

func benchScan(b *testing.B, text string, role Role) {
	d := testDetector(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Scan(text, role)
	}
}

// go test -bench . -benchtime 2s ./detect/
func BenchmarkScan2KB(b *testing.B)         { benchScan(b, benchPrompt, RoleUser) }
func BenchmarkScan2KBDocument(b *testing.B) { benchScan(b, benchPrompt, RoleDocument) }
func BenchmarkScan64KBDocument(b *testing.B) {
	benchScan(b, strings.Repeat(filler, 64<<10/len(filler)), RoleDocument)
}
func BenchmarkScan16KB(b *testing.B) {
	benchScan(b, strings.Repeat(filler, 16<<10/len(filler)), RoleUser)
}
func BenchmarkScanAttack(b *testing.B) { benchScan(b, attacks[0], RoleUser) }

// BenchmarkLoad measures model and rule loading (start-up cost).
func BenchmarkLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoadTime(t *testing.T) {
	// Not a timed assertion: logs the load time for the record.
	start := time.Now()
	if _, err := model.Embedded(); err != nil {
		t.Fatal(err)
	}
	t.Logf("model load %v", time.Since(start))
}
