package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store"
)

// BlockStore is a backend's block store, closable by the suite.
type BlockStore interface {
	store.BlockStore
	Close() error
}

// RunBlocks runs the block-store contract; open returns a fresh, empty
// store (closed by the suite).
func RunBlocks(t *testing.T, open func(t *testing.T) BlockStore) {
	t.Run("AddListRemove", func(t *testing.T) { testBlocksCRUD(t, open(t)) })
	t.Run("Validation", func(t *testing.T) { testBlocksInvalid(t, open(t)) })
	t.Run("VersionAndPurge", func(t *testing.T) { testBlocksVersion(t, open(t)) })
}

func testBlocksCRUD(t *testing.T, s BlockStore) {
	defer s.Close()
	now := time.Now()
	got, err := s.ListBlocks(ctx, now)
	if err != nil || len(got) != 0 {
		t.Fatalf("ListBlocks(empty) = %v, %v", got, err)
	}
	key, err := s.AddBlock(ctx, store.Block{Kind: store.BlockKey, Value: "key_abc", Tenant: "acme", Action: store.ActionBlock,
		Reason: "injection attempts", CreatedBy: store.CreatedByAuto, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !store.ValidBlockID(key.ID) || key.CreatedAt.IsZero() {
		t.Fatalf("AddBlock did not assign id/created_at: %+v", key)
	}
	net, err := s.AddBlock(ctx, store.Block{Kind: store.BlockCIDR, Value: " 203.0.113.77/24 ", Action: store.ActionThrottle,
		RPM: 5, Reason: "scraping", CreatedBy: "key_admin", ExpiresAt: now.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if net.Value != "203.0.113.0/24" {
		t.Fatalf("cidr stored as %q, want canonical 203.0.113.0/24", net.Value)
	}
	// An already expired row (written directly) must not be listed.
	got, err = s.ListBlocks(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != key.ID || got[1].ID != net.ID {
		t.Fatalf("ListBlocks = %+v", got)
	}
	g := got[1]
	if g.Kind != store.BlockCIDR || g.Action != store.ActionThrottle || g.RPM != 5 || g.Reason != "scraping" ||
		g.CreatedBy != "key_admin" || !g.ExpiresAt.Equal(net.ExpiresAt.UTC()) || !g.CreatedAt.Equal(net.CreatedAt) {
		t.Fatalf("round trip: got %+v, want %+v", g, net)
	}
	if got[0].Tenant != "acme" || got[0].CreatedBy != store.CreatedByAuto {
		t.Fatalf("round trip: %+v", got[0])
	}
	// Past the first block's expiry only the second is active.
	later, err := s.ListBlocks(ctx, now.Add(90*time.Minute))
	if err != nil || len(later) != 1 || later[0].ID != net.ID {
		t.Fatalf("ListBlocks(+90m) = %+v, %v", later, err)
	}
	if err := s.RemoveBlock(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveBlock(ctx, key.ID); !errors.Is(err, store.ErrBlockNotFound) {
		t.Fatalf("second RemoveBlock = %v, want ErrBlockNotFound", err)
	}
	got, _ = s.ListBlocks(ctx, now)
	if len(got) != 1 || got[0].ID != net.ID {
		t.Fatalf("after remove: %+v", got)
	}
}

func testBlocksInvalid(t *testing.T, s BlockStore) {
	defer s.Close()
	now := time.Now()
	exp := now.Add(time.Hour)
	for name, b := range map[string]store.Block{
		"no kind":         {Value: "x", Action: store.ActionBlock, ExpiresAt: exp},
		"bad ip":          {Kind: store.BlockIP, Value: "300.1.1.1", Action: store.ActionBlock, ExpiresAt: exp},
		"bad cidr":        {Kind: store.BlockCIDR, Value: "10.0.0.0/33", Action: store.ActionBlock, ExpiresAt: exp},
		"user no tenant":  {Kind: store.BlockUser, Value: "alice", Action: store.ActionBlock, ExpiresAt: exp},
		"throttle no rpm": {Kind: store.BlockKey, Value: "key_1", Action: store.ActionThrottle, ExpiresAt: exp},
		"no expiry":       {Kind: store.BlockKey, Value: "key_1", Action: store.ActionBlock},
		"expired":         {Kind: store.BlockKey, Value: "key_1", Action: store.ActionBlock, ExpiresAt: now.Add(-time.Second)},
		"control chars":   {Kind: store.BlockKey, Value: "key\x00", Action: store.ActionBlock, ExpiresAt: exp},
		"bad action":      {Kind: store.BlockKey, Value: "key_1", Action: "ban", ExpiresAt: exp},
	} {
		if _, err := s.AddBlock(ctx, b); !errors.Is(err, store.ErrInvalidBlock) {
			t.Errorf("%s: AddBlock = %v, want ErrInvalidBlock", name, err)
		}
	}
	if got, _ := s.ListBlocks(ctx, now); len(got) != 0 {
		t.Fatalf("invalid blocks were stored: %+v", got)
	}
}

func testBlocksVersion(t *testing.T, s BlockStore) {
	defer s.Close()
	now := time.Now()
	step := func(name string, want bool, fn func() error) {
		t.Helper()
		before, err := s.BlocksVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after, _ := s.BlocksVersion(ctx)
		if (after != before) != want {
			t.Fatalf("%s: version %d → %d, want change=%v", name, before, after, want)
		}
	}
	var short store.Block
	step("add", true, func() (err error) {
		short, err = s.AddBlock(ctx, store.Block{Kind: store.BlockIP, Value: "::ffff:192.0.2.1", Action: store.ActionBlock,
			ExpiresAt: now.Add(time.Minute)})
		return err
	})
	if short.Value != "192.0.2.1" {
		t.Fatalf("mapped address stored as %q", short.Value)
	}
	step("add long", true, func() error {
		_, err := s.AddBlock(ctx, store.Block{Kind: store.BlockUser, Value: "bob", Tenant: "acme", Action: store.ActionBlock,
			ExpiresAt: now.Add(time.Hour)})
		return err
	})
	step("purge nothing", false, func() error {
		n, err := s.PurgeExpiredBlocks(ctx, now)
		if err == nil && n != 0 {
			t.Fatalf("purged %d, want 0", n)
		}
		return err
	})
	step("purge one", true, func() error {
		n, err := s.PurgeExpiredBlocks(ctx, now.Add(2*time.Minute))
		if err == nil && n != 1 {
			t.Fatalf("purged %d, want 1", n)
		}
		return err
	})
	step("remove missing", false, func() error {
		if err := s.RemoveBlock(ctx, short.ID); !errors.Is(err, store.ErrBlockNotFound) {
			t.Fatalf("RemoveBlock(purged) = %v", err)
		}
		return nil
	})
	got, _ := s.ListBlocks(ctx, now)
	if len(got) != 1 || got[0].Value != "bob" {
		t.Fatalf("after purge: %+v", got)
	}
}
