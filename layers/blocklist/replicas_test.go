package blocklist

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/storetest"
)

// TestReplicasSharePostgres runs two replicas (each its own connection
// pool and cache) on one PostgreSQL schema: a block added through one is
// enforced by the other after its refresher's next poll, and so is its
// removal.
func TestReplicasSharePostgres(t *testing.T) {
	dsn := storetest.FreshPostgres(t)
	var caches [2]*Cache
	for i := range caches {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		caches[i] = NewCache(db, nil)
		if err := caches[i].Reload(ctx); err != nil {
			t.Fatal(err)
		}
		caches[i].Start(100*time.Millisecond, time.Minute)
		t.Cleanup(func() { caches[i].Close() })
	}
	a, b := caches[0], caches[1]
	ip := netip.MustParseAddr("203.0.113.5")
	blk, err := a.AddBlock(ctx, store.Block{Kind: store.BlockCIDR, Value: "203.0.113.0/24", Action: store.ActionBlock,
		Reason: "scanner", CreatedBy: "key_admin", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// The replica that added it enforces it at once.
	if v := a.Lookup(ip, "", "", ""); v.Block == nil {
		t.Fatal("replica A does not enforce its own block")
	}
	waitFor(t, "replica B enforces the block", func() bool { return b.Lookup(ip, "", "", "").Block != nil })
	if err := a.RemoveBlock(ctx, blk.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replica B lifts the block", func() bool { return b.Lookup(ip, "", "", "").Block == nil })
}

// waitFor polls cond (the refresher runs in the background) for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
