package ratelimit

import (
	"strconv"
	"testing"

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
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := txs[i%len(txs)]
		*tx = engine.Tx{ID: tx.ID, ClientIP: tx.ClientIP, Route: tx.Route, Request: tx.Request}
		if d, err := l.OnRequest(tx); err != nil || d.Action != engine.Allow {
			b.Fatal(d, err)
		}
		l.OnFinish(tx)
	}
}
