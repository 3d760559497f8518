package blocklist

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// benchCache holds n key blocks, n user blocks and n address and network
// blocks (built in memory, as a reload does).
func benchCache(n int) *Cache {
	now := time.Now()
	var list []store.Block
	for i := range n {
		exp := now.Add(time.Hour)
		list = append(list,
			store.Block{ID: fmt.Sprintf("blk_%016x", 4*i), Kind: store.BlockKey, Value: fmt.Sprintf("key_%d", i), Action: store.ActionBlock, ExpiresAt: exp},
			store.Block{ID: fmt.Sprintf("blk_%016x", 4*i+1), Kind: store.BlockUser, Value: fmt.Sprintf("u%d", i), Tenant: "acme", Action: store.ActionBlock, ExpiresAt: exp},
			store.Block{ID: fmt.Sprintf("blk_%016x", 4*i+2), Kind: store.BlockIP, Value: netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}).String(), Action: store.ActionBlock, ExpiresAt: exp},
			store.Block{ID: fmt.Sprintf("blk_%016x", 4*i+3), Kind: store.BlockCIDR, Value: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i >> 8), byte(i), 0}), 24).String(), Action: store.ActionBlock, ExpiresAt: exp})
	}
	c := NewCache(nil, nil)
	c.snap.Store(build(list, now))
	return c
}

// BenchmarkLookup is the per-request cost of a caller that is not blocked,
// with 0 and 40 000 blocks in force.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		c := benchCache(n)
		ip := netip.MustParseAddr("203.0.113.7")
		b.Run(fmt.Sprintf("blocks=%d", 4*n), func(b *testing.B) {
			for b.Loop() {
				if v := c.Lookup(ip, "key_clean", "acme", "alice"); v.Block != nil {
					b.Fatal("blocked")
				}
			}
		})
	}
}

// BenchmarkOnHeaders is the whole layer call (address parse included).
func BenchmarkOnHeaders(b *testing.B) {
	l := New(Defaults(), WithCache(benchCache(10_000)))
	if err := l.Provision(&engine.Host{}); err != nil {
		b.Fatal(err)
	}
	tx := &engine.Tx{ClientIP: "203.0.113.7", Identity: &engine.Identity{KeyID: "key_clean", Tenant: "acme", Subject: "alice"}}
	for b.Loop() {
		if d, _ := l.OnHeaders(tx); d.Action != engine.Allow {
			b.Fatal("blocked")
		}
	}
}
