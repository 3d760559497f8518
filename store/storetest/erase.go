package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// ErasureStore is what the erasure suite needs: a full backend.
type ErasureStore interface {
	Store
	store.BlockStore
	store.SubjectEraser
}

// RunErasure proves that EraseSubject leaves nothing of a user id or a key
// id in any table (dump returns every row of every table), keeps
// everything else, and bumps the identity and blocks versions.
func RunErasure(t *testing.T, open func(t *testing.T) (ErasureStore, Dump)) {
	t.Run("User", func(t *testing.T) { s, d := open(t); testEraseSubject(t, s, d, "user-8f3a9c@example.org", false) })
	t.Run("Key", func(t *testing.T) { s, d := open(t); testEraseSubject(t, s, d, "key_erase_me_7d1e", true) })
}

func testEraseSubject(t *testing.T, s ErasureStore, dump Dump, victim string, isKey bool) {
	defer s.Close()
	now := ms(time.Now())
	if err := s.CreateTenant(ctx, identity.Tenant{ID: "acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// Keys: the victim's own key (or, for a user, a key used by the user),
	// one that was rotated into it, and a bystander.
	victimKey := "key_of_victim_1"
	if isKey {
		victimKey = victim
	}
	if err := s.CreateKey(ctx, newKey("key_predecessor", "acme", 1, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateKey(ctx, "key_predecessor", now.Add(time.Hour), newKey(victimKey, "acme", 2, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, newKey("key_bystander", "acme", 3, now)); err != nil {
		t.Fatal(err)
	}
	var recs []*store.AuditRecord
	for i := range 6 {
		r := &store.AuditRecord{RequestID: fmt.Sprintf("req-%d", i), Time: now, Route: "/v1/chat/completions", Model: "gpt-4o", CostNanos: 1000, Priced: true,
			Tenant: "acme", KeyID: "key_bystander", Subject: "someone-else", Status: 200,
			Decisions: []engine.Outcome{{Layer: "pii", Action: "allow"}},
			Content:   &store.AuditContent{Response: fmt.Sprintf("answer %d", i)}}
		switch i {
		case 1:
			r.Subject = victim
		case 2:
			r.KeyID = victimKey
		case 3:
			r.KeyID, r.Subject = victimKey, victim
		}
		recs = append(recs, r)
	}
	if err := s.WriteAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	kind := store.BlockUser
	if isKey {
		kind = store.BlockKey
	}
	if _, err := s.AddBlock(ctx, store.Block{Kind: kind, Value: victim, Tenant: "acme", Action: store.ActionBlock,
		Reason: "abuse", CreatedBy: "key_bystander", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBlock(ctx, store.Block{Kind: store.BlockIP, Value: "198.51.100.7", Action: store.ActionBlock,
		Reason: "same source as " + victim, CreatedBy: victimKey, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	before := dump(t)
	if !Contains(before, []byte(victim)) || !Contains(before, []byte("someone-else")) {
		t.Fatal("sanity: the dump does not show the subject before erasure; it is not reading the tables")
	}
	gen0, _ := s.IdentityGeneration(ctx)
	bv0, _ := s.BlocksVersion(ctx)
	spend0, err := s.QuerySpend(ctx, store.SpendFilter{GroupBy: []string{store.GroupTenant}})
	if err != nil || len(spend0) == 0 {
		t.Fatalf("spend before erasure: %v, %v", spend0, err)
	}

	e, err := s.EraseSubject(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	// Spend keeps its totals per tenant; only the id is gone (checked by
	// the dump below).
	if spend1, err := s.QuerySpend(ctx, store.SpendFilter{GroupBy: []string{store.GroupTenant}}); err != nil ||
		fmt.Sprint(spend1) != fmt.Sprint(spend0) || e.SpendRows == 0 {
		t.Fatalf("spend per tenant changed by erasure: %v -> %v (%v), %d rows", spend0, spend1, err, e.SpendRows)
	}
	wantAudit := int64(2) // records 1 and 3 (subject)
	if isKey {
		wantAudit = 3 // records 1 (subject = key id), 2 and 3
	}
	if e.AuditRecords != wantAudit || e.Blocks != 1 || e.BlockReferences != 1 {
		t.Fatalf("erasure = %+v, want %d audit records, 1 block and 1 block reference", e, wantAudit)
	}
	if isKey {
		if e.Keys != 1 || e.KeyReferences != 1 {
			t.Fatalf("key erasure = %+v, want the key and its predecessor's reference", e)
		}
		if gen, _ := s.IdentityGeneration(ctx); gen == gen0 {
			t.Fatal("identity generation not bumped: replicas would keep the erased key cached")
		}
		if _, err := s.GetKey(ctx, victim); err == nil {
			t.Fatal("erased key still readable")
		}
		pred, err := s.GetKey(ctx, "key_predecessor")
		if err != nil || pred.ReplacedBy != "" {
			t.Fatalf("predecessor = %+v, %v; want replaced_by cleared", pred, err)
		}
	} else if e.Keys != 0 || e.KeyReferences != 0 {
		t.Fatalf("user erasure = %+v, want no key", e)
	}
	if bv, _ := s.BlocksVersion(ctx); bv == bv0 {
		t.Fatal("blocks version not bumped: replicas would keep enforcing the erased block")
	}
	after := dump(t)
	if Contains(after, []byte(victim)) {
		for _, r := range after {
			if Contains([]string{r}, []byte(victim)) {
				if len(r) > 1000 {
					t.Errorf("raw store bytes (%d) still hold the subject", len(r))
				} else {
					t.Errorf("row still names the subject: %q", r)
				}
			}
		}
		t.Fatal("erasure left the subject in the store")
	}
	// Everything else stays.
	rest, err := s.QueryAudit(ctx, store.AuditFilter{})
	if err != nil || int64(len(rest)) != 6-wantAudit {
		t.Fatalf("%d audit records left, %v; want %d", len(rest), err, 6-wantAudit)
	}
	if _, err := s.GetKey(ctx, "key_bystander"); err != nil {
		t.Fatalf("bystander key: %v", err)
	}
	wantCreator := victimKey // erasing a user keeps the key that created the block
	if isKey {
		wantCreator = ""
	}
	if bl, _ := s.ListBlocks(ctx, now); len(bl) != 1 || bl[0].Value != "198.51.100.7" || bl[0].Reason != "" || bl[0].CreatedBy != wantCreator {
		t.Fatalf("blocks after erasure = %+v", bl)
	}
	// Erasing again finds nothing.
	if e2, err := s.EraseSubject(ctx, victim); err != nil || e2.Total() != 0 {
		t.Fatalf("second erasure = %+v, %v", e2, err)
	}
	if _, err := s.EraseSubject(ctx, ""); err == nil {
		t.Fatal("empty id accepted")
	}
}
