package ratelimit

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/internal/redistest"
)

type alerts struct {
	mu sync.Mutex
	a  []incident.BudgetAlert
}

func (n *alerts) NotifyBudget(a incident.BudgetAlert) {
	n.mu.Lock()
	n.a = append(n.a, a)
	n.mu.Unlock()
}

// spend runs one request that costs cost nano-USD; it returns the block
// code ("" when admitted) and the reason.
func spend(t *testing.T, l *Layer, r req, cost int64) (string, string) {
	t.Helper()
	tx := r.tx()
	d, err := l.OnRequest(tx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action == engine.Block {
		return d.Code, d.Reason
	}
	tx.Cost, tx.Priced = cost, true
	l.OnFinish(tx)
	return "", ""
}

func TestUSDBudgetPerKey(t *testing.T) {
	cfg := Defaults()
	cfg.Rules = []Rule{{Name: "spend", Scope: ScopeKey, BudgetUSDDay: 0.001}} // 1,000,000 nano-USD
	n := &alerts{}
	clk := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	l := New(cfg, WithClock(clk.Now), WithBudgetNotifier(n))
	if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	k1 := req{key: "key_secret_id_1", tenant: "acme"}
	// 450k, 900k (80% alert), 1.35M (100% alert): admitted while below.
	for i := 0; i < 3; i++ {
		if code, reason := spend(t, l, k1, 450_000); code != "" {
			t.Fatalf("request %d: %s %s", i, code, reason)
		}
	}
	code, reason := spend(t, l, k1, 450_000)
	if code != CodeBudget || !strings.Contains(reason, `"spend"`) || !strings.Contains(reason, "$0.001000 per calendar day") ||
		strings.Contains(reason, "key_secret_id_1") {
		t.Fatalf("%s %s", code, reason)
	}
	// Another key has its own budget.
	if code, _ := spend(t, l, req{key: "key_2", tenant: "acme"}, 1); code != "" {
		t.Fatal(code)
	}
	n.mu.Lock()
	got := n.a
	n.mu.Unlock()
	if len(got) != 2 || got[0].Percent != 80 || got[0].SpentUSD != 0.0009 || got[0].LimitUSD != 0.001 ||
		got[1].Percent != 100 || got[1].Identity.Value != "key_secret_id_1" || got[1].Window != "2026-12-07" || got[1].Rule != "spend" {
		t.Fatalf("alerts %+v", got)
	}
	// The next UTC day starts afresh.
	clk.Add(14 * time.Hour)
	if code, _ := spend(t, l, k1, 450_000); code != "" {
		t.Fatal("budget did not reset:", code)
	}
}

func TestUSDBudgetOverridesAndTenant(t *testing.T) {
	cfg := Defaults()
	cfg.Rules = []Rule{{Name: "ip", Scope: ScopeIP, RPM: 1000}}
	l, _ := newLayer(t, cfg)
	// A key's own budget from its metadata ($0.50/month in micro-USD).
	own := req{key: "k_own", tenant: "t1", limits: map[string]int64{LimitUSDMonth: 500_000}}
	if code, _ := spend(t, l, own, 400_000_000); code != "" {
		t.Fatal(code)
	}
	if code, _ := spend(t, l, own, 200_000_000); code != "" { // $0.40 < $0.50: admitted, ends at $0.60
		t.Fatal(code)
	}
	if code, reason := spend(t, l, own, 1); code != CodeBudget || !strings.Contains(reason, `"key-override"`) {
		t.Fatal(code, reason)
	}
	// A tenant budget ($1/day) counts every key of the tenant together.
	tl := map[string]int64{LimitTenantUSDDay: 1_000_000}
	a, b := req{key: "ka", tenant: "t2", limits: tl}, req{key: "kb", tenant: "t2", limits: tl}
	if code, _ := spend(t, l, a, 600_000_000); code != "" {
		t.Fatal(code)
	}
	if code, _ := spend(t, l, b, 600_000_000); code != "" {
		t.Fatal(code)
	}
	for _, r := range []req{a, b} {
		if code, reason := spend(t, l, r, 1); code != CodeBudget || !strings.Contains(reason, `"tenant-budget"`) || !strings.Contains(reason, "per tenant") {
			t.Fatal(code, reason)
		}
	}
	// Another tenant is not affected.
	if code, _ := spend(t, l, req{key: "kc", tenant: "t3", limits: tl}, 1); code != "" {
		t.Fatal(code)
	}
}

func TestUSDBudgetConfig(t *testing.T) {
	for _, bad := range []Rule{
		{Name: "x", Scope: ScopeKey, BudgetUSDDay: -1},
		{Name: "x", Scope: ScopeKey, BudgetUSDMonth: MaxBudgetUSD + 1},
	} {
		c := Defaults()
		c.Rules = []Rule{bad}
		c.fill()
		if c.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	c := Defaults()
	c.BudgetAlertPercent = 101
	if c.Validate() == nil {
		t.Error("alert percent 101 accepted")
	}
}

// Two replicas sharing Redis see one tenant budget and send its alert
// once.
func TestUSDBudgetRedisReplicas(t *testing.T) {
	url := redistest.URL(t)
	cfg := Defaults()
	cfg.Backend, cfg.RedisURL = BackendRedis, url
	cfg.RedisPrefix = "rampart:test:usd:" + time.Now().Format("150405.000000000") + ":"
	cfg.Rules = []Rule{{Name: "tenant-spend", Scope: ScopeTenant, BudgetUSDMonth: 0.01}} // 10M nano-USD
	n := &alerts{}
	replica := func() *Layer {
		l := New(cfg, WithBudgetNotifier(n))
		if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry()}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	a, b := replica(), replica()
	// 3M, 6M, 9M (80% alert), 10M (100% alert), alternating replicas.
	for i, cost := range []int64{3_000_000, 3_000_000, 3_000_000, 1_000_000} {
		l := a
		if i%2 == 1 {
			l = b
		}
		if code, _ := spend(t, l, req{key: "k" + string(rune('0'+i)), tenant: "shared"}, cost); code != "" {
			t.Fatalf("request %d: %s", i, code)
		}
	}
	for _, l := range []*Layer{a, b} {
		if code, _ := spend(t, l, req{key: "k9", tenant: "shared"}, 1); code != CodeBudget {
			t.Fatalf("over budget admitted: %q", code)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.a) != 2 || n.a[0].Percent != 80 || n.a[1].Percent != 100 || n.a[1].Identity.Value != "shared" {
		t.Fatalf("alerts %+v", n.a)
	}
}
