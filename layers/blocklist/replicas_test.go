package blocklist

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
)

// postgresDSN returns a DSN for a fresh schema on the test database
// (RAMPART_TEST_POSTGRES_DSN), dropped when the test ends. Without the
// variable the test skips, or fails under RAMPART_TEST_REQUIRE_SERVICES=1.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("RAMPART_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("RAMPART_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("RAMPART_TEST_POSTGRES_DSN not set and RAMPART_TEST_REQUIRE_SERVICES=1 (run scripts/services.sh)")
		}
		t.Skip("RAMPART_TEST_POSTGRES_DSN not set (run scripts/services.sh)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "bl_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close(context.Background())
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal("bad DSN")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestReplicasSharePostgres runs two replicas (each its own connection
// pool and cache) on one PostgreSQL schema: a block added through one is
// enforced by the other after its refresher's next poll, and so is its
// removal.
func TestReplicasSharePostgres(t *testing.T) {
	dsn := postgresDSN(t)
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
