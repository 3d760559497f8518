package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/store"
)

// TestSpendMatchesHandComputation sends requests through a pool whose
// first member fails, to a mock that reports 1000 prompt and 500
// completion tokens, and checks the audit records' cost and the spend
// rows against the price table by hand.
func TestSpendMatchesHandComputation(t *testing.T) {
	a, b := newMock(t, "a"), newMock(t, "b")
	a.set("status", 503, nil)
	cfg := config.Default()
	cfg.Audit.Sync = true
	cfg.Upstreams = []config.Upstream{up("a", a.URL+"/v1"), up("b", b.URL+"/v1")}
	cfg.Pricing.Prices = []config.Price{{Models: []string{"house-*"}, Input: 3, Output: 7}}
	g := newGateway(t, cfg, WithGetenv(env(nil)))
	for _, model := range []string{"gpt-4o-mini", "gpt-4o-mini", "house-model", "unpriced-model"} {
		w := post(t, g, "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hello"}]}`, nil)
		if w.Code != 200 {
			t.Fatal(w.Code, w.Body.String())
		}
	}
	// By hand, per request of 1000 prompt + 500 completion tokens:
	//   gpt-4o-mini ($0.15 in, $0.60 out per 1M): 150 + 300 = 450 micro-USD
	//   house-model ($3 in, $7 out per 1M):      3000 + 3500 = 6500 micro-USD
	want := map[string]int64{"gpt-4o-mini": 2 * 450_000, "house-model": 6_500_000, "unpriced-model": 0}
	ss := g.store.(store.SpendStore)
	rows, err := ss.QuerySpend(context.Background(), store.SpendFilter{GroupBy: []string{store.GroupModel, store.GroupDay}})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if len(rows) != 3 {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		if r.CostNanos != want[r.Model] || r.Period != today || r.PromptTokens != 1000*r.Requests || r.CompletionTokens != 500*r.Requests {
			t.Errorf("%+v, want cost %d", r, want[r.Model])
		}
		if (r.Model == "unpriced-model") != (r.Unpriced == 1) {
			t.Errorf("unpriced count: %+v", r)
		}
	}
	recs, err := g.store.QueryAudit(context.Background(), store.AuditFilter{})
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	r := recs[0]
	if r.CostNanos != 450_000 || !r.Priced || r.Upstream != "b" || len(r.Attempts) != 2 ||
		r.Attempts[0].Reason != "status_503" || r.Attempts[1].Upstream != "b" || r.KeyID == "" {
		t.Fatalf("audit record: %+v", r)
	}
	if !strings.HasPrefix(r.Attempts[0].Upstream, "a") {
		t.Fatal(r.Attempts)
	}
}
