package ratelimit

import (
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// BenchmarkLayerMemory is OnRequest + OnFinish with the default rule (per-IP
// rpm and max_parallel) on the memory backend, over 10k client IPs.
func BenchmarkLayerMemory(b *testing.B) {
	l := New(Defaults())
	if err := l.Provision(&engine.Host{}); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	txs := make([]*engine.Tx, 10_000)
	for i := range txs {
		txs[i] = req{ip: "10.1." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)}.tx()
	}
	runRequests(b, l, txs, conv.Usage{})
}

// runRequests runs OnRequest and OnFinish b.N times over txs (reset each
// time), with the upstream usage given.
func runRequests(b *testing.B, l *Layer, txs []*engine.Tx, usage conv.Usage) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := txs[i%len(txs)]
		*tx = engine.Tx{ID: tx.ID, ClientIP: tx.ClientIP, Route: tx.Route, Request: tx.Request, Identity: tx.Identity}
		if d, err := l.OnRequest(tx); err != nil || d.Action != engine.Allow {
			b.Fatal(d, err)
		}
		tx.Usage = usage
		l.OnFinish(tx)
	}
}

// BenchmarkLayerTokenKey is a whole request of a key with rpm and tpm
// limits (as `rampart keys create --rpm --tpm` makes) and a 2 KB prompt:
// the prompt's tokens are estimated and charged, the upstream's usage
// settles them.
func BenchmarkLayerTokenKey(b *testing.B) {
	l := New(Defaults())
	if err := l.Provision(&engine.Host{}); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	prompt := strings.Repeat("I am planning a trip to Europe next spring with my family and would like some advice. ", 24)
	lim := map[string]int64{"rpm": 10_000_000, "tpm": 10_000_000_000}
	txs := make([]*engine.Tx, 1000)
	for i := range txs {
		txs[i] = req{ip: "10.2." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256), key: "key" + strconv.Itoa(i), text: prompt, limits: lim}.tx()
	}
	b.SetBytes(int64(len(prompt)))
	runRequests(b, l, txs, conv.Usage{PromptTokens: 450, CompletionTokens: 20, TotalTokens: 470})
}

// BenchmarkPromptTokens compares what admission does per request now (the
// estimate) with what it did before (the tokenizer), on a 2 KB prompt.
func BenchmarkPromptTokens(b *testing.B) {
	prompt := strings.Repeat("I am planning a trip to Europe next spring with my family and would like some advice. ", 24)
	c := req{text: prompt}.tx().Request
	promptTokens(c) // build the vocabulary outside the timing
	for _, bc := range []struct {
		name string
		f    func(*conv.Conversation) int64
	}{{"estimate", promptEstimate}, {"count", promptTokens}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(prompt)))
			b.ReportAllocs()
			for b.Loop() {
				bc.f(c)
			}
		})
	}
}
