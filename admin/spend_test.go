package admin_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/store"
)

func TestSpendScopedAndBudgetsNotLifted(t *testing.T) {
	e := setup(t)
	srv := httptest.NewServer(admin.NewHandler(e.db, e.svc, nil, admin.WithSpend(e.db)))
	t.Cleanup(srv.Close)
	e.srv = srv
	// acme may spend $10 a month as a whole.
	if st, m := e.call(t, e.global, "POST", "/admin/tenants", map[string]any{"id": "acme", "limits": map[string]int64{"budget_usd_month": 10_000_000}}); st != 201 {
		t.Fatalf("tenant: %d %v", st, m)
	}
	e.call(t, e.global, "POST", "/admin/tenants", map[string]any{"id": "beta"})
	_, m := e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "acme-admin", "tenant": "acme", "role": "admin"})
	acmeAdmin := m["key"].(string)
	_, m = e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "acme-dev", "tenant": "acme", "role": "developer"})
	acmeDev := m["key"].(string)

	// A tenant admin cannot give a key more than the tenant has, nor lift it.
	for _, v := range []int64{20_000_000, -1} {
		if st, m := e.call(t, acmeAdmin, "POST", "/admin/keys", map[string]any{"name": "k", "role": "user",
			"limits": map[string]int64{"budget_usd_month": v}}); st != 403 || code(m) != "permission_denied" {
			t.Fatalf("budget %d: %d %v", v, st, m)
		}
	}
	if st, m := e.call(t, acmeAdmin, "POST", "/admin/keys", map[string]any{"name": "k", "role": "user",
		"limits": map[string]int64{"budget_usd_month": 5_000_000}}); st != 201 {
		t.Fatalf("budget within the tenant's: %d %v", st, m)
	}
	if st, _ := e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "g", "tenant": "acme", "role": "user",
		"limits": map[string]int64{"budget_usd_month": 20_000_000}}); st != 201 {
		t.Fatalf("global admin: %d", st)
	}

	now := time.Now().UTC()
	recs := []*store.AuditRecord{
		{RequestID: "1", Time: now, Route: "/v1/chat/completions", Model: "gpt-4o-mini", Tenant: "acme", KeyID: "ka", Subject: "ann", Status: 200, PromptTokens: 1000, CompletionTokens: 500, CostNanos: 450_000, Priced: true},
		{RequestID: "2", Time: now, Route: "/v1/chat/completions", Model: "gpt-4o-mini", Tenant: "beta", KeyID: "kb", Subject: "bob", Status: 200, PromptTokens: 10, CostNanos: 1_500, Priced: true},
	}
	if err := e.db.WriteAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	st, m := e.call(t, acmeAdmin, "GET", "/admin/spend?group_by=tenant,key", nil)
	data, _ := m["data"].([]any)
	if st != 200 || len(data) != 1 {
		t.Fatalf("tenant admin spend: %d %v", st, m)
	}
	row := data[0].(map[string]any)
	if row["tenant"] != "acme" || row["key_id"] != "ka" || row["cost_usd"] != "0.000450" || row["cost_nanos"].(float64) != 450_000 {
		t.Fatalf("row %v", row)
	}
	if st, _ := e.call(t, acmeAdmin, "GET", "/admin/spend?tenant=beta", nil); st != 403 {
		t.Fatalf("other tenant's spend: %d", st)
	}
	if st, _ := e.call(t, acmeDev, "GET", "/admin/spend", nil); st != 403 {
		t.Fatalf("developer reads spend: %d", st)
	}
	if _, m := e.call(t, e.global, "GET", "/admin/spend?group_by=tenant", nil); len(m["data"].([]any)) != 2 {
		t.Fatalf("global spend %v", m)
	}
	for _, q := range []string{"group_by=day,month", "group_by=password", "since=yesterday", "limit=0", "until=2026-13-01"} {
		if st, m := e.call(t, e.global, "GET", "/admin/spend?"+q, nil); st != 400 || code(m) != "invalid_request" {
			t.Errorf("%s: %d %v", q, st, m)
		}
	}
}

func FuzzSpendQuery(f *testing.F) {
	for _, s := range []string{"group_by=tenant,model", "group_by=day,month", "since=2026-12-01&until=2027-01-01", "limit=0", "group_by=none", "tenant=%00", "group_by=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		sf, err := admin.SpendQuery(q, time.Now())
		if err == nil && (sf.Validate() != nil || sf.EffectiveLimit() < 1 || sf.EffectiveLimit() > store.MaxSpendLimit) {
			t.Fatalf("%q accepted as %+v", raw, sf)
		}
	})
}
