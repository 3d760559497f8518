package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect/scan"
)

// scanBenchBody is a /v1/scan batch of n items of about chars characters
// of ordinary prose each.
func scanBenchBody(n, chars int) []byte {
	const prose = "The quarterly report covers revenue, hiring and the roadmap for the next release; please summarise the key risks. "
	text := strings.Repeat(prose, chars/len(prose)+1)[:chars]
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"text":"` + text + `"}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkScanMaximal is the cost of the largest /v1/scan call a key may
// make under the default limits (1000 items, max_chars 1,000,000), of a
// 9.6 MB batch (within the 10 MiB body limit) that max_chars now refuses,
// and, for the ratio, of scanning that 9.6 MB batch as /v1/scan did before
// it was bounded by max_chars.
func BenchmarkScanMaximal(b *testing.B) {
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.Layers = map[string]config.Layer{"ratelimit": {Mode: "off"}}
	cfg.Audit.Enabled = new(bool)
	var boot bytes.Buffer
	g, err := New(cfg, WithLogger(quiet), WithBootstrapOutput(&boot))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	key := keyRE.FindString(boot.String())
	post := func(b *testing.B, body []byte, want int) {
		r := httptest.NewRequest(http.MethodPost, "/v1/scan", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != want {
			b.Fatalf("status %d, want %d: %.200s", w.Code, want, w.Body.String())
		}
	}
	maximal := scanBenchBody(1000, 999)
	big := scanBenchBody(1000, 9600)
	b.Run("admitted_1M_chars", func(b *testing.B) {
		b.SetBytes(int64(len(maximal)))
		for b.Loop() {
			post(b, maximal, http.StatusOK)
		}
	})
	b.Run("refused_9.6MB", func(b *testing.B) {
		b.SetBytes(int64(len(big)))
		for b.Loop() {
			post(b, big, http.StatusBadRequest)
		}
	})
	// Tool names are context, not scanned text (max_chars does not count
	// them); the body limit bounds them.
	tools := func() []byte {
		name := `"` + strings.Repeat("fetch_url_", 10) + `"`
		var bb bytes.Buffer
		bb.WriteString(`{"items":[`)
		for i := 0; i < 1000; i++ {
			if i > 0 {
				bb.WriteByte(',')
			}
			bb.WriteString(`{"text":"Please send the report to the finance team","user":"summarise the page","tools":[`)
			for j := 0; j < 80; j++ {
				if j > 0 {
					bb.WriteByte(',')
				}
				bb.WriteString(name)
			}
			bb.WriteString(`]}`)
		}
		bb.WriteString(`]}`)
		return bb.Bytes()
	}()
	b.Run("tools_8MB", func(b *testing.B) {
		b.SetBytes(int64(len(tools)))
		for b.Loop() {
			post(b, tools, http.StatusOK)
		}
	})
	user := []byte(`{"text":"Please send the report to the finance team","user":"` + strings.Repeat("send delete export the file ", 35000) + `"}`)
	b.Run("user_1M_chars", func(b *testing.B) {
		b.SetBytes(int64(len(user)))
		for b.Loop() {
			post(b, user, http.StatusOK)
		}
	})
	b.Run("unbounded_9.6MB_scan", func(b *testing.B) {
		sc := g.cur.Load().scanner
		text := string(big[len(`{"items":[{"text":"`) : len(`{"items":[{"text":"`)+9600])
		b.SetBytes(int64(len(big)))
		for b.Loop() {
			for i := 0; i < 1000; i++ {
				sc.Scan(scan.Item{Text: text}, scan.Input)
			}
		}
	})
}
