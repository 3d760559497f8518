package extraction

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
)

// prompt2K is a 2 KB single-paragraph prompt.
func prompt2K(r *rand.Rand) string {
	var b strings.Builder
	for b.Len() < 2048 {
		b.WriteString(vocab[r.IntN(len(vocab))])
		b.WriteByte(' ')
	}
	return b.String()[:2048]
}

// benchLayer returns a layer with n identities whose histories are full
// of diverse 2 KB prompts sent at a human pace (one per 50 s, below the
// baselines), and one such request per identity.
func benchLayer(b *testing.B, n int) (*Layer, *clock, []*engine.Tx) {
	l, clk := newLayer(b, Defaults())
	r := rand.New(rand.NewPCG(1, 2))
	txs := make([]*engine.Tx, n)
	for i := range txs {
		txs[i] = chatTx("key-"+strconv.Itoa(i), "192.0.2.1", prompt2K(r))
	}
	for range 64 {
		for _, tx := range txs {
			tx.Request.Messages[0].Segments[0].Text = prompt2K(r)
			l.OnRequest(tx)
		}
		clk.add(50 * time.Second)
	}
	return l, clk, txs
}

// BenchmarkLayerOnRequest is OnRequest for a 2 KB prompt (allowed: the
// common case) over 1,000 identities with full histories, so each request
// is compared with 64 earlier signatures.
func BenchmarkLayerOnRequest(b *testing.B) {
	l, clk, txs := benchLayer(b, 1000)
	b.ReportAllocs()
	b.SetBytes(2048)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(txs) == 0 {
			clk.add(50 * time.Second)
		}
		d, err := l.OnRequest(txs[i%len(txs)])
		if err != nil || d.Action != engine.Allow {
			b.Fatal(d, err)
		}
	}
}

// BenchmarkLayerOnRequestFlagged is the same for identities that are
// flagged (a finding is built for each request).
func BenchmarkLayerOnRequestFlagged(b *testing.B) {
	l, _, txs := benchLayer(b, 1000)
	l.cfg.MaxAction = ActionFlag
	l.sc = newScorer(l.cfg)
	for _, tx := range txs {
		for range 100 {
			l.OnRequest(tx) // 100 more at once: above the baselines
		}
	}
	b.ReportAllocs()
	b.SetBytes(2048)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := l.OnRequest(txs[i%len(txs)])
		if err != nil || d.Action != engine.Flag {
			b.Fatal(d, err)
		}
	}
}

// BenchmarkAnalyse2K is the signature extraction alone for a 2 KB prompt.
func BenchmarkAnalyse2K(b *testing.B) {
	p := prompt2K(rand.New(rand.NewPCG(1, 2)))
	b.ReportAllocs()
	b.SetBytes(2048)
	for i := 0; i < b.N; i++ {
		_ = analyse(p)
	}
}
