package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// testSpend writes audit records across days, months, tenants, keys and
// models in two batches and checks every grouping against sums done by
// hand, and that attempts and cost survive the audit round trip.
func testSpend(t *testing.T, s Store) {
	defer s.Close()
	d1 := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	d2 := time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)
	d3 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rec := func(at time.Time, tenant, key, user, model string, p, c int, cost int64) *store.AuditRecord {
		return &store.AuditRecord{RequestID: fmt.Sprint(at.UnixNano(), key, model), Time: at, Route: "/v1/chat/completions",
			Model: model, Tenant: tenant, KeyID: key, Subject: user, Status: 200,
			PromptTokens: p, CompletionTokens: c, TotalTokens: p + c, CostNanos: cost, Priced: cost > 0}
	}
	b1 := []*store.AuditRecord{
		rec(d1, "acme", "k1", "ann", "gpt-4o-mini", 1000, 500, 450_000),
		rec(d1, "acme", "k1", "ann", "gpt-4o-mini", 2000, 0, 300_000),
		rec(d2, "acme", "k2", "bob", "claude-x", 10, 10, 180_000),
	}
	b1[0].Attempts = []engine.Attempt{{Upstream: "a", Reason: "status_503", Status: 503, Duration: 7}, {Upstream: "b"}}
	b2 := []*store.AuditRecord{
		rec(d2, "beta", "k3", "cy", "local", 5, 5, 0),
		rec(d3, "acme", "k1", "ann", "gpt-4o-mini", 1000, 500, 450_000),
	}
	for _, b := range [][]*store.AuditRecord{b1, b2} {
		if err := s.WriteAudit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.QueryAudit(ctx, store.AuditFilter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("audit: %d, %v", len(all), err)
	}
	if a := all[0]; a.CostNanos != 450_000 || !a.Priced || len(a.Attempts) != 2 || a.Attempts[0] != b1[0].Attempts[0] || a.Attempts[1].Upstream != "b" {
		t.Fatalf("audit round trip: %+v", a)
	}
	if all[3].Priced || all[3].Attempts != nil {
		t.Fatalf("unpriced record: %+v", all[3])
	}
	q := func(f store.SpendFilter) string {
		t.Helper()
		rows, err := s.QuerySpend(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range rows {
			out += fmt.Sprintf("[%s %s %s %s %s r%d u%d p%d c%d $%d]", r.Period, r.Tenant, r.KeyID, r.Subject, r.Model,
				r.Requests, r.Unpriced, r.PromptTokens, r.CompletionTokens, r.CostNanos)
		}
		return out
	}
	for _, tc := range []struct {
		f    store.SpendFilter
		want string
	}{
		{store.SpendFilter{}, "[     r5 u1 p4015 c1015 $1380000]"},
		{store.SpendFilter{GroupBy: []string{"tenant"}}, "[ acme    r4 u0 p4010 c1010 $1380000][ beta    r1 u1 p5 c5 $0]"},
		{store.SpendFilter{GroupBy: []string{"month", "tenant"}},
			"[2026-11 acme    r2 u0 p3000 c500 $750000][2026-12 acme    r2 u0 p1010 c510 $630000][2026-12 beta    r1 u1 p5 c5 $0]"},
		{store.SpendFilter{GroupBy: []string{"day"}, Tenant: "acme", KeyID: "k1"},
			"[2026-11-30     r2 u0 p3000 c500 $750000][2026-12-07     r1 u0 p1000 c500 $450000]"},
		{store.SpendFilter{GroupBy: []string{"key", "user", "model"}, Since: d2, Until: d3},
			"[  k2 bob claude-x r1 u0 p10 c10 $180000][  k3 cy local r1 u1 p5 c5 $0]"},
		{store.SpendFilter{GroupBy: []string{"model"}, Model: "gpt-4o-mini", Limit: 1}, "[    gpt-4o-mini r3 u0 p4000 c1000 $1200000]"},
		{store.SpendFilter{Tenant: "nobody"}, ""},
	} {
		if got := q(tc.f); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.f, got, tc.want)
		}
	}
	for _, bad := range [][]string{{"day", "month"}, {"tenant", "tenant"}, {"nope"}, {"key; DROP TABLE spend_daily"}} {
		if _, err := s.QuerySpend(ctx, store.SpendFilter{GroupBy: bad}); err == nil {
			t.Errorf("grouping %v accepted", bad)
		}
	}
}
