package extraction

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryBounded sends requests from a million distinct client IPs and
// checks that the identity table stays within max_identities and the heap
// within the documented per-identity cost; then fills every tracked
// identity's signature history and checks the worst case.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a million requests")
	}
	cfg := Defaults()
	cfg.MaxIdentities = 20_000
	l, clk := newLayer(t, cfg)
	before := heapAlloc()
	tx := chatTx("", "", "How do I make my sourdough starter more active?")
	buf := make([]byte, 0, 16)
	for i := 0; i < 1_000_000; i++ {
		buf = append(buf[:0], "10."...)
		buf = strconv.AppendInt(buf, int64(i>>16&255), 10)
		buf = append(buf, '.')
		buf = strconv.AppendInt(buf, int64(i>>8&255), 10)
		buf = append(buf, '.')
		buf = strconv.AppendInt(buf, int64(i&255), 10)
		tx.ClientIP = string(buf)
		if i%1000 == 0 {
			clk.add(time.Second)
		}
		if _, err := l.OnRequest(tx); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.tr.Len(); n > l.tr.Cap() || l.tr.Cap() > cfg.MaxIdentities+trackerShards {
		t.Fatalf("%d identities, cap %d", n, l.tr.Cap())
	}
	if ev := l.tr.evictions.Load(); ev < 1_000_000-uint64(l.tr.Cap()) {
		t.Fatalf("evictions %d", ev)
	}
	oneEach := heapAlloc()
	// Worst case: every tracked identity with a full history.
	for i := 0; i < cfg.MaxIdentities; i++ {
		tx.ClientIP = "10.200." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
		for range cfg.History {
			if _, err := l.OnRequest(tx); err != nil {
				t.Fatal(err)
			}
		}
	}
	full := heapAlloc()
	perID := (int64(full) - int64(before)) / int64(cfg.MaxIdentities)
	t.Logf("identities %d, evictions %d, heap %d KiB -> %d KiB (one request each) -> %d KiB (full history): %d B per identity",
		l.tr.Len(), l.tr.evictions.Load(), before>>10, oneEach>>10, full>>10, perID)
	// README: about 300 B plus 40 B per kept signature (64: ~2.9 KB);
	// allow for map and LRU overhead.
	if perID > 4096 {
		t.Fatalf("%d bytes per identity with a full history", perID)
	}
}
