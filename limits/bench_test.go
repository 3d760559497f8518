package limits

import (
	"strconv"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/internal/redistest"
)

// BenchmarkMemoryAdmit is one request's typical checks (rpm + concurrency
// acquire, then release) on the memory backend, over 10k client keys.
func BenchmarkMemoryAdmit(b *testing.B) {
	m := NewMemory(MemoryOptions{})
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = "rampart:rl:ip-default:rpm:v10.0." + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		cs := make([]Check, 2)
		out := make([]Status, 2)
		i := 0
		for pb.Next() {
			k := keys[i%len(keys)]
			i++
			cs[0] = Check{Kind: Rate, Key: k, Interval: time.Millisecond, Capacity: 1 << 30, Cost: 1}
			cs[1] = Check{Kind: Concurrency, Key: k + "c", Limit: 1 << 30, Member: "m"}
			if ok, err := m.Admit(ctx, cs, out); !ok || err != nil {
				b.Fatal(ok, err)
			}
			_ = m.Settle(ctx, cs[1:])
		}
	})
}

// BenchmarkRedisAdmit is one Admit round trip with rpm, tpm and budget
// checks (one script call).
func BenchmarkRedisAdmit(b *testing.B) {
	r := newRedis(b, redistest.URL(b))
	p := uniquePrefix(b)
	exp := time.Now().Add(time.Hour)
	cs := []Check{
		{Kind: Rate, Key: p + "rpm", Interval: time.Nanosecond, Capacity: 1 << 40, Cost: 1},
		{Kind: Rate, Key: p + "tpm", Interval: time.Nanosecond, Capacity: 1 << 40, Cost: 100},
		{Kind: Counter, Key: p + "day", Limit: 1 << 50, Cost: 100, Expires: exp},
	}
	out := make([]Status, len(cs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, err := r.Admit(ctx, cs, out); !ok || err != nil {
			b.Fatal(ok, err, out)
		}
	}
}
