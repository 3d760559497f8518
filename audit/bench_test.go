package audit

import (
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
)

// BenchmarkRecord measures the request-path cost of Record (copy + enqueue)
// with a store that discards batches.
func BenchmarkRecord(b *testing.B) {
	l, _ := New(&fakeStore{}, auditCfg(func(c *config.Audit) { c.QueueSize = 1 << 16; c.FlushInterval = time.Millisecond }), nil)
	tx := newTx("bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Record(tx)
		}
	})
	b.StopTimer()
	l.Close()
	b.ReportMetric(float64(l.Dropped())/float64(b.N), "dropped/op")
}
