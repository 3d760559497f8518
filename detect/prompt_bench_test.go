package detect

import (
	"fmt"
	"sync"
	"testing"

	"github.com/rampart-ai/rampart/bench/prompttext"
)

// promptKB are the prompt sizes of `rampart-bench -prompt-kb 1,8,32,128,512`.
var promptKB = []int{1, 8, 32, 128, 512}

// BenchmarkScanPromptKB scans the load tool's user prompt (four English
// sentences in turn) at the sizes of its per-KB table, as user text: the
// detector's share of the gateway's added cost per KB of prompt.
//
//	go test -run '^$' -bench 'ScanPromptKB|ScanVariedKB' -cpu 1 ./detect/
func BenchmarkScanPromptKB(b *testing.B) {
	for _, kb := range promptKB {
		text := prompttext.Text(kb << 10)
		b.Run(fmt.Sprintf("%dKB", kb), func(b *testing.B) { benchScan(b, text, RoleUser) })
	}
}

// BenchmarkScanVariedKB is BenchmarkScanPromptKB on text that does not
// repeat: benign and document rows of the train and dev splits (speed only;
// nothing is tuned on it).
func BenchmarkScanVariedKB(b *testing.B) {
	for _, kb := range promptKB {
		text := longVariedText(b, kb<<10)
		b.Run(fmt.Sprintf("%dKB", kb), func(b *testing.B) { benchScan(b, text, RoleUser) })
		b.Run(fmt.Sprintf("%dKBDocument", kb), func(b *testing.B) { benchScan(b, text, RoleDocument) })
	}
}

var (
	longVariedOnce sync.Once
	longVaried     string
)

// longVariedText returns the first n bytes (cut at a character boundary)
// of the train and dev splits' benign and document rows joined by line
// breaks.
func longVariedText(b *testing.B, n int) string {
	longVariedOnce.Do(func() {
		longVaried = benignRows(b, "../data/injection/dev.jsonl", "../data/injection/train.jsonl")
	})
	return cutText(b, longVaried, n)
}
