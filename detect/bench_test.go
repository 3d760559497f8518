package detect

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

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
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		d.Scan(text, role)
	}
	reportCPU(b, cpu0, len(text))
}

// processCPU is the CPU time (user and system) this process has used. On a
// loaded machine wall time per op counts the time spent waiting for a core;
// CPU time per op does not (run with -cpu 1 so that one goroutine scans).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU µs per op and per KB of text since cpu0 to b's
// results.
func reportCPU(b *testing.B, cpu0 time.Duration, textBytes int) {
	b.StopTimer()
	us := float64(processCPU()-cpu0) / float64(time.Microsecond) / float64(b.N)
	b.ReportMetric(us, "cpu-µs/op")
	if textBytes > 0 {
		b.ReportMetric(us*1024/float64(textBytes), "cpu-µs/KB")
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

// The texts above repeat one paragraph; these are as long, from ordinary
// text that does not repeat: the benign and document rows of the dev split.
func BenchmarkScan2KBVaried(b *testing.B) { benchScan(b, variedText(b, 2<<10), RoleUser) }
func BenchmarkScan2KBVariedDocument(b *testing.B) {
	benchScan(b, variedText(b, 2<<10), RoleDocument)
}
func BenchmarkScan16KBVaried(b *testing.B) { benchScan(b, variedText(b, 16<<10), RoleUser) }

// Text past MaxScanBytes is scanned in overlapping windows: its MB/s
// against BenchmarkScan64KBVariedDocument is the per-KB cost of scanning
// everything (issue #22); before, everything past 64 KiB went unscanned.
// (The dev split holds less than 256 KB of benign text: four copies of
// the 64 KB text.)
func BenchmarkScan256KBVariedDocument(b *testing.B) {
	benchScan(b, strings.Repeat(variedText(b, 64<<10), 4), RoleDocument)
}

func BenchmarkScan64KBVariedDocument(b *testing.B) {
	benchScan(b, variedText(b, 64<<10), RoleDocument)
}

var (
	variedOnce sync.Once
	varied     string
)

// variedText returns the first n bytes (cut at a character boundary) of the
// dev split's benign and document rows joined by line breaks.
func variedText(b *testing.B, n int) string {
	variedOnce.Do(func() { varied = benignRows(b, "../data/injection/dev.jsonl") })
	return cutText(b, varied, n)
}

// benignRows joins the benign and document rows of the files by line
// breaks.
func benignRows(b *testing.B, files ...string) string {
	var sb strings.Builder
	for _, f := range files {
		rows, err := ReadRows(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			if r.Kind == "benign" || r.Kind == "document" {
				sb.WriteString(r.Text)
				sb.WriteByte('\n')
			}
		}
	}
	return sb.String()
}

// cutText returns the first n bytes of text, cut at a character boundary.
func cutText(b *testing.B, text string, n int) string {
	if len(text) < n {
		b.Fatalf("only %d bytes of text", len(text))
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n]
}

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
