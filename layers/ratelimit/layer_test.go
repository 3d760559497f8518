package ratelimit

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/layertest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLayer(t testing.TB, cfg Config) (*Layer, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 31, 23, 59, 0, 0, time.UTC)}
	l := New(cfg, WithClock(clk.Now))
	if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, clk
}

// req builds a transaction; text sets the user message.
type req struct {
	ip, key, user, tenant, route, model, text string
	maxTokens                                 int
	limits                                    map[string]int64
}

var txSeq int

func (r req) tx() *engine.Tx {
	txSeq++
	tx := &engine.Tx{ID: "tx" + string(rune('a'+txSeq%26)) + strings.Repeat("x", txSeq%7) + time.Now().Format("150405.000000000"),
		ClientIP: r.ip, Route: r.route}
	if tx.Route == "" {
		tx.Route = "/v1/chat/completions"
	}
	if tx.ClientIP == "" {
		tx.ClientIP = "192.0.2.1"
	}
	model := r.model
	if model == "" {
		model = "gpt-4o"
	}
	text := r.text
	if text == "" {
		text = "hello"
	}
	tx.Request = &conv.Conversation{Kind: conv.KindChat, Model: model, MaxTokens: r.maxTokens,
		Messages: []conv.Message{{Role: conv.RoleUser, Segments: []conv.Segment{conv.NewSegment(text, conv.SourceUser, "messages.0.content")}}}}
	if r.key != "" || r.user != "" || r.tenant != "" {
		tx.Identity = &engine.Identity{KeyID: r.key, Subject: r.user, Tenant: r.tenant, Limits: r.limits}
	}
	return tx
}

// act is one request in a table case: what comes in, what usage the
// upstream reports, whether it finishes before the next one starts, and the
// expected answer code ("" = admitted).
type act struct {
	r       req
	usage   conv.Usage
	advance time.Duration
	hold    bool // keep in flight (no OnFinish) until the case ends
	code    string
	status  int
}

func TestLimits(t *testing.T) {
	ip := func(ip string) req { return req{ip: ip} }
	key := func(k string) req { return req{key: k, user: "u", tenant: "t"} }
	long := strings.Repeat("lorem ipsum dolor sit amet ", 40) // ~200 tokens
	cases := []struct {
		name  string
		rules []Rule
		acts  []act
	}{
		{"rpm per ip", []Rule{{Scope: ScopeIP, RPM: 60, Burst: 2}}, []act{
			{r: ip("192.0.2.1")}, {r: ip("192.0.2.1")},
			{r: ip("192.0.2.1"), code: CodeRateLimit},
			{r: ip("192.0.2.2")},
			{r: ip("192.0.2.1"), advance: time.Second},
		}},
		{"rpm per ipv6 /64", []Rule{{Scope: ScopeIP, RPM: 60, Burst: 1}}, []act{
			{r: ip("2001:db8::1")},
			{r: ip("2001:db8::ffff"), code: CodeRateLimit},
			{r: ip("2001:db8:0:1::1")},
		}},
		{"rpm per key", []Rule{{Scope: ScopeKey, RPM: 60, Burst: 1}}, []act{
			{r: key("k1")}, {r: key("k1"), code: CodeRateLimit}, {r: key("k2")},
			{r: ip("192.0.2.9")}, // no identity: not counted by a key rule
		}},
		{"rpm per user", []Rule{{Scope: ScopeUser, RPM: 60, Burst: 1}}, []act{
			{r: req{key: "a", user: "alice", tenant: "t"}},
			{r: req{key: "b", user: "alice", tenant: "t"}, code: CodeRateLimit},
			{r: req{key: "c", user: "alice", tenant: "other"}},
		}},
		{"rpm per tenant", []Rule{{Scope: ScopeTenant, RPM: 60, Burst: 1}}, []act{
			{r: req{key: "a", tenant: "t1"}}, {r: req{key: "b", tenant: "t1"}, code: CodeRateLimit},
			{r: req{key: "c", tenant: "t2"}},
		}},
		{"rpm per route", []Rule{{Scope: ScopeRoute, RPM: 60, Burst: 1}}, []act{
			{r: req{route: "/v1/chat/completions"}}, {r: req{route: "/v1/chat/completions"}, code: CodeRateLimit},
			{r: req{route: "/v1/embeddings"}},
		}},
		{"rpm per model with filter", []Rule{{Scope: ScopeModel, RPM: 60, Burst: 1, Models: []string{"gpt-4*"}}}, []act{
			{r: req{model: "gpt-4o"}}, {r: req{model: "gpt-4o"}, code: CodeRateLimit},
			{r: req{model: "gpt-4.1"}},
			{r: req{model: "o3"}}, {r: req{model: "o3"}}, // filtered out
		}},
		{"tpm", []Rule{{Scope: ScopeKey, TPM: 1000}}, []act{
			{r: key("k"), usage: conv.Usage{PromptTokens: 10, CompletionTokens: 900, TotalTokens: 910}},
			{r: req{key: "k", user: "u", tenant: "t", text: long}, code: CodeTokens},
			{r: key("k")},
			{r: key("k"), advance: 30 * time.Second},
		}},
		{"prompt tpm", []Rule{{Scope: ScopeIP, PromptTPM: 300}}, []act{
			{r: req{text: long}}, {r: req{text: long}, code: CodeTokens},
			{r: req{text: "hi"}},
		}},
		{"prompt above tpm never fits", []Rule{{Scope: ScopeIP, TPM: 50}}, []act{
			{r: req{text: long}, code: CodeTokens},
			{r: req{text: "hi"}},
		}},
		{"max parallel", []Rule{{Scope: ScopeKey, MaxParallel: 2}}, []act{
			{r: key("k"), hold: true}, {r: key("k"), hold: true},
			{r: key("k"), code: CodeConcurrency},
			{r: key("other")},
		}},
		{"budget day", []Rule{{Scope: ScopeTenant, BudgetDay: 1000}}, []act{
			{r: req{key: "a", tenant: "t"}, usage: conv.Usage{PromptTokens: 8, CompletionTokens: 992}},
			{r: req{key: "b", tenant: "t"}, code: CodeBudget},
			{r: req{key: "b", tenant: "t"}, advance: time.Minute}, // next UTC day
		}},
		{"budget month", []Rule{{Scope: ScopeKey, BudgetMonth: 500}}, []act{
			{r: key("k"), usage: conv.Usage{TotalTokens: 600}},
			{r: key("k"), code: CodeBudget},
			{r: key("k"), advance: 2 * time.Minute}, // April
		}},
		{"max prompt tokens", []Rule{{Scope: ScopeGlobal, MaxPromptTokens: 100}}, []act{
			{r: req{text: long}, code: CodePromptTooBig, status: 400},
			{r: req{text: "short"}},
		}},
		{"max tokens block", []Rule{{Scope: ScopeGlobal, MaxTokens: 100}}, []act{
			{r: req{maxTokens: 101}, code: CodeMaxTokens, status: 400},
			{r: req{maxTokens: 100}}, {r: req{}},
		}},
		{"key override wins", []Rule{{Scope: ScopeKey, RPM: 60, Burst: 1}}, []act{
			{r: req{key: "vip", limits: map[string]int64{"rpm": 120, "burst": 3}}},
			{r: req{key: "vip", limits: map[string]int64{"rpm": 120, "burst": 3}}},
			{r: req{key: "vip", limits: map[string]int64{"rpm": 120, "burst": 3}}},
			{r: req{key: "vip", limits: map[string]int64{"rpm": 120, "burst": 3}}, code: CodeRateLimit},
			{r: req{key: "plain"}}, {r: req{key: "plain"}, code: CodeRateLimit},
		}},
		{"key override without key rule", []Rule{{Scope: ScopeIP, RPM: 1000}}, []act{
			{r: req{key: "k", limits: map[string]int64{"max_parallel": 1}}, hold: true},
			{r: req{key: "k", limits: map[string]int64{"max_parallel": 1}}, code: CodeConcurrency},
		}},
		{"negative override lifts limit", []Rule{{Scope: ScopeKey, RPM: 60, Burst: 1}}, []act{
			{r: req{key: "k", limits: map[string]int64{"rpm": -1}}},
			{r: req{key: "k", limits: map[string]int64{"rpm": -1}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, clk := newLayer(t, Config{Rules: tc.rules})
			var held []*engine.Tx
			defer func() {
				for _, tx := range held {
					l.OnFinish(tx)
				}
			}()
			for i, a := range tc.acts {
				clk.Add(a.advance)
				tx := a.r.tx()
				d, err := l.OnRequest(tx)
				if err != nil {
					t.Fatalf("act %d: %v", i, err)
				}
				got := ""
				if d.Action == engine.Block {
					got = d.Code
				}
				if got != a.code {
					t.Fatalf("act %d: code %q (%s), want %q", i, got, d.Reason, a.code)
				}
				if got != "" {
					want := a.status
					if want == 0 {
						want = 429
					}
					if d.Status != want || d.Reason == "" || !strings.Contains(d.Reason, d.Rule) {
						t.Fatalf("act %d: status %d reason %q rule %q", i, d.Status, d.Reason, d.Rule)
					}
					if want == 429 {
						checkHeaders(t, d.Headers)
					}
				}
				tx.Usage = a.usage
				if a.hold {
					held = append(held, tx)
				} else {
					l.OnFinish(tx)
				}
			}
		})
	}
}

func checkHeaders(t *testing.T, h map[string]string) {
	t.Helper()
	for _, k := range []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if h[k] == "" {
			t.Fatalf("header %s missing: %v", k, h)
		}
	}
	if h["Retry-After"] == "0" {
		t.Fatalf("Retry-After 0")
	}
}

func TestHeadersOpenAIStyle(t *testing.T) {
	l, _ := newLayer(t, Config{Rules: []Rule{{Scope: ScopeIP, RPM: 60, Burst: 1, TPM: 100000}}})
	tx := req{}.tx()
	if d, _ := l.OnRequest(tx); d.Action != engine.Allow {
		t.Fatal(d)
	}
	l.OnFinish(tx)
	d, _ := l.OnRequest(req{}.tx())
	h := d.Headers
	want := map[string]string{"Retry-After": "1", "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0",
		"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s",
		"x-ratelimit-limit-tokens": "100000"}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s = %q, want %q (%v)", k, h[k], v, h)
		}
	}
	if !strings.Contains(d.Reason, `"ip-0"`) || !strings.Contains(d.Reason, "per client IP") {
		t.Errorf("reason %q", d.Reason)
	}
}

func TestStreamEstimateCharged(t *testing.T) {
	l, _ := newLayer(t, Config{Rules: []Rule{{Scope: ScopeIP, TPM: 1000}}})
	tx := req{}.tx()
	if d, _ := l.OnRequest(tx); d.Action != engine.Allow {
		t.Fatal(d)
	}
	ev := &conv.StreamEvent{Deltas: []conv.Delta{conv.NewDelta(0, strings.Repeat("x", 4000), "")}}
	l.OnStreamEvent(tx, ev) // ~1000 tokens, no usage reported
	l.OnFinish(tx)
	if d, _ := l.OnRequest(req{}.tx()); d.Code != CodeTokens {
		t.Fatalf("after a 1000-token stream: %+v", d)
	}
}

func TestMaxTokensFlag(t *testing.T) {
	l, _ := newLayer(t, Config{Rules: []Rule{{Scope: ScopeGlobal, MaxTokens: 10, MaxTokensAction: MaxTokensFlag}}})
	d, err := l.OnRequest(req{maxTokens: 50}.tx())
	if err != nil || d.Action != engine.Flag || len(d.Findings) != 1 {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestDefaultsZeroConfig(t *testing.T) {
	lay, err := Module.New(func(any) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	l := lay.(*Layer)
	if err := l.Provision(&engine.Host{}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := l.Config()
	if c.Backend != BackendMemory || len(c.Rules) != 1 || c.Rules[0].RPM != 600 || c.Rules[0].Burst != 600 {
		t.Fatalf("defaults %+v", c)
	}
	for i := 0; i < 600; i++ {
		tx := req{}.tx()
		if d, _ := l.OnRequest(tx); d.Action != engine.Allow {
			t.Fatalf("request %d refused by defaults: %s", i, d.Reason)
		}
		l.OnFinish(tx)
	}
	if d, _ := l.OnRequest(req{}.tx()); d.Code != CodeRateLimit {
		t.Fatalf("601st: %+v", d)
	}
}

func TestConfigFile(t *testing.T) {
	cfg := layertest.FromFile(t, "testdata/ratelimit.yaml", Module).(*Layer).cfg
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 3 || cfg.Rules[0].Name != "per-key" || cfg.RedisTimeout != 250*time.Millisecond ||
		cfg.StreamUsage != StreamUsageAsk || cfg.Rules[2].MaxTokensAction != MaxTokensClamp || cfg.Rules[2].MaxTokensDefault != 1024 {
		t.Fatalf("%+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"backend", Config{Backend: "etcd"}, "backend"},
		{"redis url", Config{Backend: BackendRedis}, "redis_url"},
		{"scope", Config{Rules: []Rule{{Scope: "planet", RPM: 1}}}, "scope"},
		{"no scope", Config{Rules: []Rule{{RPM: 1}}}, "scope missing"},
		{"no limit", Config{Rules: []Rule{{Scope: ScopeIP}}}, "no limit"},
		{"negative", Config{Rules: []Rule{{Scope: ScopeIP, RPM: -1}}}, "rpm"},
		{"huge", Config{Rules: []Rule{{Scope: ScopeIP, TPM: 1 << 50}}}, "tpm"},
		{"burst alone", Config{Rules: []Rule{{Scope: ScopeIP, Burst: 5, TPM: 1}}}, "burst"},
		{"dup name", Config{Rules: []Rule{{Name: "a", Scope: ScopeIP, RPM: 1}, {Name: "a", Scope: ScopeKey, RPM: 1}}}, "duplicate"},
		{"bad name", Config{Rules: []Rule{{Name: "a:b", Scope: ScopeIP, RPM: 1}}}, "name"},
		{"glob", Config{Rules: []Rule{{Scope: ScopeIP, RPM: 1, Models: []string{"["}}}}, "pattern"},
		{"route", Config{Rules: []Rule{{Scope: ScopeIP, RPM: 1, Routes: []string{"v1"}}}}, "path"},
		{"action", Config{Rules: []Rule{{Scope: ScopeIP, MaxTokens: 1, MaxTokensAction: "cut"}}}, "max_tokens_action"},
		{"v6", Config{IPv6Prefix: 200}, "ipv6_prefix"},
		{"default above cap", Config{Rules: []Rule{{Scope: ScopeIP, MaxTokens: 10, MaxTokensDefault: 20}}}, "max_tokens_default"},
		{"default huge", Config{Rules: []Rule{{Scope: ScopeIP, MaxTokensDefault: 1 << 32}}}, "max_tokens_default"},
		{"stream usage", Config{StreamUsage: "always", Rules: []Rule{{Scope: ScopeIP, RPM: 1}}}, "stream_usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(tc.cfg)
			err := l.Provision(&engine.Host{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRedisURLEnv(t *testing.T) {
	l := New(Config{Backend: BackendRedis, RedisURLEnv: "RL_URL"}, WithGetenv(func(string) string { return "" }))
	if err := l.Provision(&engine.Host{}); err == nil || !strings.Contains(err.Error(), "RL_URL") {
		t.Fatalf("err %v", err)
	}
	l = New(Config{Backend: BackendRedis, RedisURLEnv: "RL_URL"}, WithGetenv(func(string) string { return "http://x" }))
	if err := l.Provision(&engine.Host{}); err == nil {
		t.Fatal("bad url accepted")
	}
}

// TestPromptEstimateSettled: admission charges the prompt's estimate (no
// tokenizer on the request path); the upstream's usage replaces it when the
// request ends; without usage, the prompt is counted exactly then.
func TestPromptEstimateSettled(t *testing.T) {
	const tpm = 1000000
	text := strings.Repeat("QmVsbGEgaGFzIHR3byB0aW1lcyBhcyBtYW55IG1hcmJsZXMgYXMgZnJpc2JlZXMu ", 40) // base64: estimate ≠ count
	remaining := func(d engine.Decision) string { return d.Headers["x-ratelimit-remaining-tokens"] }
	for _, reported := range []bool{true, false} {
		l, _ := newLayer(t, Config{Rules: []Rule{{Scope: ScopeIP, TPM: tpm}}})
		tx := req{text: text}.tx()
		est, exact := promptEstimate(tx.Request), promptTokens(tx.Request)
		if est == exact {
			t.Fatalf("estimate and count agree (%d): the case shows nothing", est)
		}
		d, _ := l.OnRequest(tx)
		if got, want := remaining(d), strconv.FormatInt(tpm-est, 10); got != want {
			t.Fatalf("remaining after admission %s, want %s (estimate %d, count %d)", got, want, est, exact)
		}
		charged := exact
		if reported {
			tx.Usage = conv.Usage{PromptTokens: 700, CompletionTokens: 50, TotalTokens: 750}
			charged = 750
		} else {
			l.OnResponse(tx, &conv.Response{}) // no usage, no answer text
		}
		l.OnFinish(tx)
		next := req{text: "hi"}.tx()
		d, _ = l.OnRequest(next)
		if got, want := remaining(d), strconv.FormatInt(tpm-charged-promptEstimate(next.Request), 10); got != want {
			t.Fatalf("usage reported %v: remaining %s, want %s", reported, got, want)
		}
	}
}

// TestFinishWithoutTokenLimitsCountsNothing: a request admitted only
// against request and concurrency limits is not tokenized when it ends,
// even if the upstream reported no usage (the tokenizer allocates thousands
// of times for a 2 KB prompt).
func TestFinishWithoutTokenLimitsCountsNothing(t *testing.T) {
	l, _ := newLayer(t, Config{Rules: []Rule{{Scope: ScopeIP, RPM: 1 << 30, MaxParallel: 1000}}})
	text := strings.Repeat("I am planning a trip to Europe next spring with my family. ", 35)
	allocs := testing.AllocsPerRun(20, func() {
		tx := req{text: text}.tx()
		if d, _ := l.OnRequest(tx); d.Action != engine.Allow {
			t.Fatal(d)
		}
		l.OnStreamEvent(tx, &conv.StreamEvent{Deltas: []conv.Delta{conv.NewDelta(0, "some answer", "")}})
		l.OnFinish(tx)
	})
	if allocs > 200 {
		t.Fatalf("%.0f allocations per request: the prompt was tokenized", allocs)
	}
}
