package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// Store is what a full backend implements.
type Store interface {
	store.AuditStore
	store.SpendStore
	identity.Store
}

// Run runs the whole suite; open returns a fresh, empty store (closed by
// the suite).
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Tenants", func(t *testing.T) { testTenants(t, open(t)) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, open(t)) })
	t.Run("Generation", func(t *testing.T) { testGeneration(t, open(t)) })
	t.Run("RotateAndTouch", func(t *testing.T) { testRotateTouch(t, open(t)) })
	t.Run("ConcurrentTouch", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("AuditBatchIDs", func(t *testing.T) { testAuditBatchIDs(t, open(t)) })
	t.Run("Spend", func(t *testing.T) { testSpend(t, open(t)) })
}

var ctx = context.Background()

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func hash(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func testTenants(t *testing.T, s Store) {
	defer s.Close()
	now := ms(time.Now())
	if _, err := s.GetTenant(ctx, "acme"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("GetTenant(missing) = %v, want ErrNotFound", err)
	}
	in := identity.Tenant{ID: "acme", Models: []string{"gpt-4o*", "claude-*"}, Policy: "strict",
		Limits: map[string]int64{"rpm": 60}, CreatedAt: now}
	if err := s.CreateTenant(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTenant(ctx, in); !errors.Is(err, identity.ErrConflict) {
		t.Fatalf("duplicate CreateTenant = %v, want ErrConflict", err)
	}
	if err := s.CreateTenant(ctx, identity.Tenant{ID: "beta", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "acme" || got.Policy != "strict" || len(got.Models) != 2 || got.Models[1] != "claude-*" ||
		got.Limits["rpm"] != 60 || !got.CreatedAt.Equal(now) {
		t.Fatalf("GetTenant = %+v, want %+v", got, in)
	}
	all, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != "acme" || all[1].ID != "beta" || all[1].Models != nil || all[1].Limits != nil {
		t.Fatalf("ListTenants = %+v", all)
	}
}

func newKey(id, tenant string, h byte, created time.Time) identity.Key {
	return identity.Key{ID: id, Name: "n-" + id, Tenant: tenant, Role: identity.RoleUser,
		Prefix: "rk_abcdef", Hash: hash(h), Models: []string{"gpt-*"}, Policy: "p",
		Limits: map[string]int64{"tpm": 1000}, CreatedAt: created}
}

func testKeys(t *testing.T, s Store) {
	defer s.Close()
	now := ms(time.Now())
	if n, err := s.CountKeys(ctx); err != nil || n != 0 {
		t.Fatalf("CountKeys(empty) = %d, %v", n, err)
	}
	k1 := newKey("key_1", "acme", 1, now)
	k1.ExpiresAt = now.Add(time.Hour)
	k2 := newKey("key_2", "beta", 2, now.Add(time.Millisecond))
	k3 := newKey("key_3", identity.GlobalTenant, 3, now.Add(2*time.Millisecond))
	for _, k := range []identity.Key{k1, k2, k3} {
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	dupHash := newKey("key_4", "acme", 1, now)
	if err := s.CreateKey(ctx, dupHash); !errors.Is(err, identity.ErrConflict) {
		t.Fatalf("duplicate hash = %v, want ErrConflict", err)
	}
	dupID := newKey("key_1", "acme", 9, now)
	if err := s.CreateKey(ctx, dupID); !errors.Is(err, identity.ErrConflict) {
		t.Fatalf("duplicate id = %v, want ErrConflict", err)
	}
	if n, err := s.CountKeys(ctx); err != nil || n != 3 {
		t.Fatalf("CountKeys = %d, %v", n, err)
	}
	got, err := s.KeyByHash(ctx, hash(1))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "key_1" || got.Tenant != "acme" || got.Role != identity.RoleUser || !bytes.Equal(got.Hash, hash(1)) ||
		got.Prefix != "rk_abcdef" || got.Models[0] != "gpt-*" || got.Limits["tpm"] != 1000 || got.Policy != "p" ||
		!got.CreatedAt.Equal(now) || !got.ExpiresAt.Equal(now.Add(time.Hour)) || !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Fatalf("KeyByHash = %+v", got)
	}
	if _, err := s.KeyByHash(ctx, hash(7)); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("KeyByHash(missing) = %v", err)
	}
	if _, err := s.GetKey(ctx, "key_9"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("GetKey(missing) = %v", err)
	}
	if g, err := s.GetKey(ctx, "key_3"); err != nil || g.Tenant != identity.GlobalTenant || !g.ExpiresAt.IsZero() {
		t.Fatalf("GetKey = %+v, %v", g, err)
	}
	acme, err := s.ListKeys(ctx, "acme")
	if err != nil || len(acme) != 1 || acme[0].ID != "key_1" {
		t.Fatalf("ListKeys(acme) = %+v, %v", acme, err)
	}
	all, err := s.ListKeys(ctx, "")
	if err != nil || len(all) != 3 || all[0].ID != "key_1" || all[2].ID != "key_3" {
		t.Fatalf("ListKeys() = %d keys, %v", len(all), err)
	}
	// Revoke keeps the first revocation time.
	if err := s.RevokeKey(ctx, "key_2", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, "key_2", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.GetKey(ctx, "key_2"); !g.RevokedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("RevokedAt = %v", g.RevokedAt)
	}
	if err := s.RevokeKey(ctx, "key_9", now); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("RevokeKey(missing) = %v", err)
	}
	if err := s.ExpireKey(ctx, "key_3", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.GetKey(ctx, "key_3"); !g.ExpiresAt.Equal(now.Add(time.Second)) {
		t.Fatalf("ExpiresAt = %v", g.ExpiresAt)
	}
	if err := s.ExpireKey(ctx, "key_9", now); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("ExpireKey(missing) = %v", err)
	}
}

func testGeneration(t *testing.T, s Store) {
	defer s.Close()
	now := ms(time.Now())
	g0, err := s.IdentityGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	step := func(name string, want bool, fn func() error) {
		t.Helper()
		before, _ := s.IdentityGeneration(ctx)
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after, err := s.IdentityGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if (after > before) != want {
			t.Fatalf("%s: generation %d → %d, want bump=%v", name, before, after, want)
		}
	}
	step("create tenant", true, func() error { return s.CreateTenant(ctx, identity.Tenant{ID: "acme", CreatedAt: now}) })
	step("create key", false, func() error { return s.CreateKey(ctx, newKey("key_1", "acme", 1, now)) })
	step("touch", false, func() error { return s.TouchKeys(ctx, map[string]time.Time{"key_1": now}) })
	step("revoke", true, func() error { return s.RevokeKey(ctx, "key_1", now) })
	step("create key 2", false, func() error { return s.CreateKey(ctx, newKey("key_2", "acme", 2, now)) })
	step("expire", true, func() error { return s.ExpireKey(ctx, "key_2", now) })
	step("rotate", true, func() error { return s.RotateKey(ctx, "key_2", now, newKey("key_3", "acme", 3, now)) })
	step("key limits", true, func() error { return s.SetKeyLimits(ctx, "key_3", map[string]int64{"rpm": 7}) })
	step("tenant limits", true, func() error { return s.SetTenantLimits(ctx, "acme", map[string]int64{"rpm": 70}) })
	if k, err := s.GetKey(ctx, "key_3"); err != nil || k.Limits["rpm"] != 7 || len(k.Limits) != 1 {
		t.Fatalf("key limits after set: %v %v", k.Limits, err)
	}
	if tn, err := s.GetTenant(ctx, "acme"); err != nil || tn.Limits["rpm"] != 70 || len(tn.Limits) != 1 {
		t.Fatalf("tenant limits after set: %v %v", tn.Limits, err)
	}
	if err := s.SetKeyLimits(ctx, "nope", nil); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("limits of a missing key: %v", err)
	}
	if err := s.SetTenantLimits(ctx, "nope", nil); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("limits of a missing tenant: %v", err)
	}
	// A failed change must not bump.
	before, _ := s.IdentityGeneration(ctx)
	if err := s.RevokeKey(ctx, "nope", now); !errors.Is(err, identity.ErrNotFound) {
		t.Fatal(err)
	}
	if after, _ := s.IdentityGeneration(ctx); after != before {
		t.Fatalf("failed revoke bumped generation %d → %d", before, after)
	}
	if g, _ := s.IdentityGeneration(ctx); g <= g0 {
		t.Fatal("generation never moved")
	}
}

func testRotateTouch(t *testing.T, s Store) {
	defer s.Close()
	now := ms(time.Now())
	old := newKey("key_old", "acme", 1, now)
	old.ExpiresAt = now.Add(time.Hour)
	if err := s.CreateKey(ctx, old); err != nil {
		t.Fatal(err)
	}
	next := newKey("key_new", "acme", 2, now)
	// Grace beyond the old expiry keeps the earlier expiry.
	if err := s.RotateKey(ctx, "key_old", now.Add(48*time.Hour), next); err != nil {
		t.Fatal(err)
	}
	g, _ := s.GetKey(ctx, "key_old")
	if !g.ExpiresAt.Equal(now.Add(time.Hour)) || g.ReplacedBy != "key_new" {
		t.Fatalf("after rotate old = %+v", g)
	}
	if _, err := s.KeyByHash(ctx, hash(2)); err != nil {
		t.Fatalf("new key not stored: %v", err)
	}
	// Shorter grace shortens it.
	if err := s.RotateKey(ctx, "key_new", now.Add(time.Minute), newKey("key_3", "acme", 3, now)); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.GetKey(ctx, "key_new"); !g.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("rotate grace: expires %v", g.ExpiresAt)
	}
	// Rotating a missing key stores nothing.
	if err := s.RotateKey(ctx, "missing", now, newKey("key_4", "acme", 4, now)); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("rotate missing = %v", err)
	}
	if _, err := s.GetKey(ctx, "key_4"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("failed rotation left its new key: %v", err)
	}
	// A rotation whose new key collides is rolled back whole.
	if err := s.RotateKey(ctx, "key_3", now, newKey("key_5", "acme", 2, now)); !errors.Is(err, identity.ErrConflict) {
		t.Fatalf("rotate collision = %v", err)
	}
	if g, _ := s.GetKey(ctx, "key_3"); !g.ExpiresAt.IsZero() || g.ReplacedBy != "" {
		t.Fatalf("failed rotation changed the old key: %+v", g)
	}
	// Touch never moves backwards and ignores unknown ids.
	t1, t2 := now.Add(time.Second), now.Add(2*time.Second)
	if err := s.TouchKeys(ctx, map[string]time.Time{"key_3": t2, "unknown": t1}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchKeys(ctx, map[string]time.Time{"key_3": t1}); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.GetKey(ctx, "key_3"); !g.LastUsedAt.Equal(t2) {
		t.Fatalf("LastUsedAt = %v, want %v", g.LastUsedAt, t2)
	}
}

func testConcurrent(t *testing.T, s Store) {
	defer s.Close()
	now := ms(time.Now())
	for i := 0; i < 8; i++ {
		if err := s.CreateKey(ctx, newKey(fmt.Sprintf("key_%d", i), "acme", byte(i+1), now)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				id := fmt.Sprintf("key_%d", (w+i)%8)
				if err := s.TouchKeys(ctx, map[string]time.Time{id: now.Add(time.Duration(w*8+i) * time.Millisecond)}); err != nil {
					errs <- err
				}
				if _, err := s.KeyByHash(ctx, hash(byte((w+i)%8+1))); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// testAuditBatchIDs writes batches that are not a multiple of any
// plausible multi-row chunk (1, 31, 32, 33, 75 records, the last one with
// every field set) and checks that each record's ID is its own row's, and
// that every field survives the batched insert.
func testAuditBatchIDs(t *testing.T, s Store) {
	defer s.Close()
	base := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	n := 0
	for _, size := range []int{1, 31, 32, 33, 75} {
		recs := make([]*store.AuditRecord, size)
		for i := range recs {
			n++
			recs[i] = &store.AuditRecord{RequestID: fmt.Sprintf("b%d-%d", size, i), Time: base.Add(time.Duration(n) * time.Second),
				Tenant: fmt.Sprintf("t%d", i%3), Status: 200 + i, PromptTokens: i, Latency: time.Duration(i) * time.Microsecond,
				Decisions: []engine.Outcome{{Layer: "injection", Phase: engine.PhaseRequest, Action: "flag", Rule: fmt.Sprintf("r%d", i)}}}
		}
		last := recs[size-1]
		last.Route, last.Model, last.Upstream, last.KeyID, last.Subject, last.ClientIP = "/v1/x", "m", "up", "k", "sub", "192.0.2.1"
		last.CompletionTokens, last.TotalTokens, last.RequestBytes, last.ResponseBytes = 5, 6, 7, 8
		last.ContentMAC, last.Blocked, last.Error, last.TraceID, last.CostNanos, last.Priced = "mac", true, "boom", "trace", 99, true
		last.Content = &store.AuditContent{Response: "r"}
		if err := s.WriteAudit(ctx, recs); err != nil {
			t.Fatalf("batch of %d: %v", size, err)
		}
		byID := map[int64]*store.AuditRecord{}
		for _, r := range recs {
			if r.ID == 0 || byID[r.ID] != nil {
				t.Fatalf("batch of %d: ID %d zero or repeated", size, r.ID)
			}
			byID[r.ID] = r
		}
		got, err := s.QueryAudit(ctx, store.AuditFilter{AfterID: recs[0].ID - 1})
		if err != nil || len(got) != size {
			t.Fatalf("batch of %d: query = %d rows, %v", size, len(got), err)
		}
		for _, g := range got {
			w := byID[g.ID]
			if w == nil || g.RequestID != w.RequestID || g.Status != w.Status || g.Tenant != w.Tenant ||
				g.PromptTokens != w.PromptTokens || g.Latency != w.Latency || !g.Time.Equal(w.Time) ||
				len(g.Decisions) != 1 || g.Decisions[0].Rule != w.Decisions[0].Rule {
				t.Fatalf("batch of %d: row %d = %+v, record with that ID = %+v", size, g.ID, g, w)
			}
		}
		g := got[len(got)-1]
		if g.ID != last.ID || g.Route != "/v1/x" || g.Model != "m" || g.Upstream != "up" || g.KeyID != "k" || g.Subject != "sub" ||
			g.ClientIP != "192.0.2.1" || g.CompletionTokens != 5 || g.TotalTokens != 6 || g.RequestBytes != 7 || g.ResponseBytes != 8 ||
			g.ContentMAC != "mac" || !g.Blocked || g.Error != "boom" || g.TraceID != "trace" || g.CostNanos != 99 || !g.Priced ||
			g.Content == nil || g.Content.Response != "r" {
			t.Fatalf("batch of %d: last row = %+v", size, g)
		}
	}
}

func testAudit(t *testing.T, s Store) {
	defer s.Close()
	base := time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC)
	var recs []*store.AuditRecord
	for i := 0; i < 6; i++ {
		tenant := "acme"
		if i%2 == 1 {
			tenant = "beta"
		}
		recs = append(recs, &store.AuditRecord{
			RequestID: fmt.Sprintf("req-%d", i), Time: base.Add(time.Duration(i) * time.Minute),
			Route: "/v1/chat/completions", Model: "gpt-4o", Tenant: tenant, KeyID: "key_1",
			Status: 200, Latency: 1500 * time.Microsecond, PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15,
			RequestBytes: 100, ResponseBytes: 200, ContentMAC: "abcd", Blocked: i == 3,
			Decisions: []engine.Outcome{{Layer: "pii", Phase: engine.PhaseRequest, Action: "flag", Duration: 42}},
		})
	}
	recs[2].Content = &store.AuditContent{Response: "hello", Request: []store.ContentSegment{{Message: 0, Role: "user", Source: "text", Text: "hi"}}}
	if err := s.WriteAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].ID <= recs[i-1].ID {
			t.Fatalf("IDs not increasing: %d then %d", recs[i-1].ID, recs[i].ID)
		}
	}
	all, err := s.QueryAudit(ctx, store.AuditFilter{})
	if err != nil || len(all) != 6 {
		t.Fatalf("QueryAudit = %d, %v", len(all), err)
	}
	r := all[2]
	if r.RequestID != "req-2" || !r.Time.Equal(base.Add(2*time.Minute)) || r.Latency != 1500*time.Microsecond ||
		r.TotalTokens != 15 || r.ResponseBytes != 200 || len(r.Decisions) != 1 || r.Decisions[0].Layer != "pii" ||
		r.Content == nil || r.Content.Request[0].Text != "hi" || r.Blocked || !all[3].Blocked || all[0].Content != nil {
		t.Fatalf("record = %+v", r)
	}
	beta, err := s.QueryAudit(ctx, store.AuditFilter{Tenant: "beta"})
	if err != nil || len(beta) != 3 {
		t.Fatalf("tenant filter = %d, %v", len(beta), err)
	}
	for _, r := range beta {
		if r.Tenant != "beta" {
			t.Fatalf("tenant filter leaked %q", r.Tenant)
		}
	}
	win, _ := s.QueryAudit(ctx, store.AuditFilter{Since: base.Add(time.Minute), Until: base.Add(3 * time.Minute)})
	if len(win) != 2 || win[0].RequestID != "req-1" {
		t.Fatalf("time window = %d", len(win))
	}
	latest, _ := s.QueryAudit(ctx, store.AuditFilter{Latest: true, Limit: 2})
	if len(latest) != 2 || latest[0].RequestID != "req-4" || latest[1].RequestID != "req-5" {
		t.Fatalf("latest = %+v", latest)
	}
	page, _ := s.QueryAudit(ctx, store.AuditFilter{AfterID: all[3].ID})
	if len(page) != 2 || page[0].RequestID != "req-4" {
		t.Fatalf("after id = %d", len(page))
	}
	n, err := s.PurgeAudit(ctx, base.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PurgeAudit = %d, %v", n, err)
	}
	rest, _ := s.QueryAudit(ctx, store.AuditFilter{})
	if len(rest) != 4 || rest[0].RequestID != "req-2" {
		t.Fatalf("after purge = %d", len(rest))
	}
}
