package incident

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name    string
		o       engine.Outcome
		monitor bool
		want    string
	}{
		{"allow", engine.Outcome{Layer: "injection", Action: "allow"}, false, ""},
		{"injection block", engine.Outcome{Layer: "injection", Action: "block", Code: "prompt_injection_detected"}, false, KindInjectionBlock},
		{"injection flag", engine.Outcome{Layer: "injection", Action: "flag"}, false, KindInjectionFlag},
		{"escalation block", engine.Outcome{Layer: "escalation", Action: "block", Code: "prompt_injection_detected"}, false, KindInjectionBlock},
		{"escalation benign verdict", engine.Outcome{Layer: "escalation", Action: "allow"}, false, ""},
		{"monitor ignored", engine.Outcome{Layer: "injection", Action: "block", Monitor: true}, false, ""},
		{"monitor counted", engine.Outcome{Layer: "injection", Action: "block", Monitor: true}, true, KindInjectionBlock},
		{"bad key", engine.Outcome{Layer: "identity", Action: "block", Code: "invalid_api_key"}, false, KindAuthFailure},
		{"lockout", engine.Outcome{Layer: "identity", Action: "block", Code: "too_many_auth_failures"}, false, KindAuthFailure},
		{"forbidden", engine.Outcome{Layer: "identity", Action: "block", Code: "permission_denied"}, false, KindForbidden},
		{"model", engine.Outcome{Layer: "identity", Action: "block", Code: "model_not_allowed"}, false, KindForbidden},
		{"identity down", engine.Outcome{Layer: "identity", Action: "block", Code: "identity_unavailable"}, false, ""},
		{"layer error", engine.Outcome{Layer: "injection", Action: "block", Code: engine.CodeLayerUnavailable, Error: "boom"}, false, ""},
		{"rate limit", engine.Outcome{Layer: "ratelimit", Action: "block", Code: "rate_limit_exceeded"}, false, KindLimitHit},
		{"ratelimit flag", engine.Outcome{Layer: "ratelimit", Action: "flag"}, false, ""},
		{"leak", engine.Outcome{Layer: "outputguard", Action: "block", Code: "system_prompt_leak"}, false, KindLeak},
		{"redaction", engine.Outcome{Layer: "outputguard", Action: "modify"}, false, ""},
		{"topic", engine.Outcome{Layer: "topics", Action: "block"}, false, KindContentBlock},
		{"guard", engine.Outcome{Layer: "guardmodel", Action: "block"}, false, KindContentBlock},
		{"input", engine.Outcome{Layer: "inputpolicy", Action: "block"}, false, KindContentBlock},
		{"extraction flag", engine.Outcome{Layer: "extraction", Action: "flag"}, false, KindExtractionFlag},
		{"extraction block", engine.Outcome{Layer: "extraction", Action: "block"}, false, KindExtractionBlock},
		{"own blocks", engine.Outcome{Layer: "blocklist", Action: "block", Code: "blocked"}, false, ""},
		{"address lists", engine.Outcome{Layer: "network", Action: "block"}, false, ""},
		{"mcp call refused", engine.Outcome{Layer: "mcp", Phase: engine.PhaseRequest, Action: "block"}, false, KindOtherBlock},
		{"mcp server's answer", engine.Outcome{Layer: "mcp", Phase: engine.PhaseResponse, Action: "block"}, false, ""},
		{"mcp stream", engine.Outcome{Layer: "mcp", Phase: engine.PhaseStream, Action: "block"}, false, ""},
		{"mcp flag", engine.Outcome{Layer: "mcp", Phase: engine.PhaseRequest, Action: "flag"}, false, ""},
		{"unknown block", engine.Outcome{Layer: "custom", Action: "block"}, false, KindOtherBlock},
		{"unknown flag", engine.Outcome{Layer: "custom", Action: "flag"}, false, ""},
	} {
		if got := Classify(&c.o, c.monitor); got != c.want {
			t.Errorf("%s: Classify = %q, want %q", c.name, got, c.want)
		}
	}
}

// clock is a manual clock for the scorer.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func testConfig(th ...Threshold) Config {
	c := Defaults()
	c.Enabled = true
	c.Thresholds = th
	c.Fill()
	return c
}

func TestScorerThresholds(t *testing.T) {
	key := Subject{Scope: ScopeKey, Value: "key_a", Tenant: "acme"}
	type step struct {
		after time.Duration
		kinds []string
		fires []string // threshold names
		score float64  // expected score after the step (±0.01)
	}
	inj := []string{KindInjectionBlock}
	for _, c := range []struct {
		name  string
		th    []Threshold
		steps []step
	}{
		{
			name: "five injections block",
			th:   []Threshold{{Name: "kb", Scope: ScopeKey, Score: 25, Action: ActionBlock, TTL: time.Hour}},
			steps: []step{
				{0, inj, nil, 5}, {0, inj, nil, 10}, {0, inj, nil, 15}, {0, inj, nil, 20},
				{0, inj, []string{"kb"}, 25},
				// In its cooldown (the TTL) the threshold stays quiet.
				{0, inj, nil, 30},
			},
		},
		{
			name: "decay halves per half-life",
			th:   []Threshold{{Name: "kb", Scope: ScopeKey, Score: 25, Action: ActionBlock, TTL: time.Hour}},
			steps: []step{
				{0, []string{KindLeak, KindLeak}, nil, 16},
				{10 * time.Minute, []string{KindAuthFailure}, nil, 9}, // 16/2 + 1
				{20 * time.Minute, []string{KindLeak}, nil, 10.25},    // 9/4 + 8
				{0, []string{KindLeak, KindLeak}, []string{"kb"}, 26.25},
			},
		},
		{
			name: "alert then block, scope filter",
			th: []Threshold{
				{Name: "ka", Scope: ScopeKey, Score: 10, Action: ActionAlert, Cooldown: time.Minute},
				{Name: "kb", Scope: ScopeKey, Score: 20, Action: ActionBlock, TTL: time.Hour},
				{Name: "ipb", Scope: ScopeIP, Score: 1, Action: ActionBlock, TTL: time.Hour},
			},
			steps: []step{
				{0, []string{KindInjectionBlock, KindInjectionBlock}, []string{"ka"}, 10},
				{0, inj, nil, 15},
				// The alert's cooldown passes; 15·2^(-2/10)+5 ≈ 18.06: alert again, no block.
				{2 * time.Minute, inj, []string{"ka"}, 18.06},
				{0, inj, []string{"kb"}, 23.06},
			},
		},
		{
			name: "zero severity ignored",
			th:   []Threshold{{Name: "kb", Scope: ScopeKey, Score: 0.1, Action: ActionBlock, TTL: time.Hour}},
			steps: []step{
				{0, []string{"no_such_kind"}, nil, 0},
			},
		},
		{
			name: "cooldown ends, fires again",
			th:   []Threshold{{Name: "kb", Scope: ScopeKey, Score: 5, Action: ActionBlock, TTL: time.Minute}},
			steps: []step{
				{0, inj, []string{"kb"}, 5},
				{30 * time.Second, inj, nil, 5*math.Pow(0.5, 0.05) + 5},
				{31 * time.Second, inj, []string{"kb"}, (5*math.Pow(0.5, 0.05)+5)*math.Pow(0.5, 31.0/600) + 5},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1_700_000_000, 0)}
			s := NewScorer(testConfig(c.th...))
			for i, st := range c.steps {
				clk.advance(st.after)
				got := s.Add(key, st.kinds, clk.now())
				var names []string
				for _, f := range got {
					names = append(names, f.Threshold.Name)
					if f.Subject != key {
						t.Fatalf("step %d: firing for %+v", i, f.Subject)
					}
				}
				if len(names) != len(st.fires) {
					t.Fatalf("step %d: fired %v, want %v", i, names, st.fires)
				}
				for j := range names {
					if names[j] != st.fires[j] {
						t.Fatalf("step %d: fired %v, want %v", i, names, st.fires)
					}
				}
				if sc := s.Score(key, clk.now()); math.Abs(sc-st.score) > 0.01 {
					t.Fatalf("step %d: score %.3f, want %.3f", i, sc, st.score)
				}
			}
		})
	}
}

func TestScorerCountsAndReset(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	s := NewScorer(testConfig(Threshold{Name: "kb", Scope: ScopeKey, Score: 10, Action: ActionBlock, TTL: time.Hour}))
	k := Subject{Scope: ScopeKey, Value: "key_a"}
	s.Add(k, []string{KindLimitHit, KindLimitHit}, clk.now())
	// After a long quiet period the score is ~0 and the history restarts.
	clk.advance(24 * time.Hour)
	f := s.Add(k, []string{KindLeak, KindInjectionBlock}, clk.now())
	if len(f) != 1 || f[0].Counts[KindLimitHit] != 0 || f[0].Counts[KindLeak] != 1 || f[0].Counts[KindInjectionBlock] != 1 {
		t.Fatalf("firing = %+v", f)
	}
	if got := countsText(f[0].Counts); got != "injection_block×1, leak×1" {
		t.Fatalf("countsText = %q", got)
	}
}

func TestScorerBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxIdentities = 100
	s := NewScorer(cfg)
	now := time.Unix(1_700_000_000, 0)
	for i := range 1000 {
		s.Add(Subject{Scope: ScopeIP, Value: "10.0.0." + string(rune('0'+i%10)) + "/" + time.Duration(i).String()},
			[]string{KindAuthFailure}, now)
	}
	if s.Len() != 100 || s.Evicted() != 900 {
		t.Fatalf("Len %d, Evicted %d; want 100, 900", s.Len(), s.Evicted())
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Threshold{Name: "t", Scope: ScopeKey, Score: 1, Action: ActionBlock, TTL: time.Hour}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"unknown kind", func(c *Config) { c.Severities["injection"] = 3 }, "unknown violation kind"},
		{"negative severity", func(c *Config) { c.Severities[KindLeak] = -1 }, "outside"},
		{"bad scope", func(c *Config) {
			c.Thresholds = []Threshold{{Name: "x", Scope: "tenant", Score: 1, Action: ActionBlock, TTL: time.Hour}}
		}, "scope"},
		{"zero score", func(c *Config) {
			c.Thresholds = []Threshold{{Name: "x", Scope: ScopeKey, Action: ActionBlock, TTL: time.Hour}}
		}, "score"},
		{"throttle without rpm", func(c *Config) {
			c.Thresholds = []Threshold{{Name: "x", Scope: ScopeIP, Score: 1, Action: ActionThrottle, TTL: time.Hour}}
		}, "rpm"},
		{"rpm on block", func(c *Config) {
			c.Thresholds = []Threshold{{Name: "x", Scope: ScopeIP, Score: 1, Action: ActionBlock, RPM: 3, TTL: time.Hour}}
		}, "rpm"},
		{"duplicate", func(c *Config) { c.Thresholds = []Threshold{ok, ok} }, "duplicate"},
		{"bad action", func(c *Config) {
			c.Thresholds = []Threshold{{Name: "x", Scope: ScopeIP, Score: 1, Action: "ban", TTL: time.Hour}}
		}, "action"},
		{"ttl too long", func(c *Config) {
			c.Thresholds = []Threshold{{Name: "x", Scope: ScopeIP, Score: 1, Action: ActionBlock, TTL: 400 * 24 * time.Hour}}
		}, "ttl"},
		{"webhook no secret", func(c *Config) { c.Webhooks = []Webhook{{URL: "https://hooks.example/x"}} }, "secret_env"},
		{"webhook bad url", func(c *Config) { c.Webhooks = []Webhook{{URL: "ftp://x", SecretEnv: "S"}} }, "http(s)"},
		{"webhook creds", func(c *Config) { c.Webhooks = []Webhook{{URL: "https://u:p@x/", SecretEnv: "S"}} }, "credentials"},
		{"webhook event", func(c *Config) {
			c.Webhooks = []Webhook{{URL: "https://x/", SecretEnv: "S", Events: []string{"block"}}}
		}, "event"},
		{"webhook ok", func(c *Config) { c.Webhooks = []Webhook{{URL: "https://x/", SecretEnv: "S"}} }, ""},
		{"half life", func(c *Config) { c.HalfLife = time.Millisecond }, "half_life"},
		{"ipv6 prefix", func(c *Config) { c.IPv6Prefix = 129 }, "ipv6_prefix"},
		{"backend memory", func(c *Config) { c.Backend = BackendMemory }, ""},
		{"backend unknown", func(c *Config) { c.Backend = "postgres" }, "want memory or redis"},
		{"redis without url", func(c *Config) { c.Backend = BackendRedis }, "redis_url or redis_url_env"},
		{"redis url", func(c *Config) { c.Backend, c.RedisURL = BackendRedis, "redis://127.0.0.1:6379/0" }, ""},
		{"redis url tls", func(c *Config) { c.Backend, c.RedisURL = BackendRedis, "rediss://cache.internal:6380/2" }, ""},
		{"redis url env", func(c *Config) { c.Backend, c.RedisURLEnv = BackendRedis, "RAMPART_INCIDENT_REDIS" }, ""},
		{"redis bad scheme", func(c *Config) { c.Backend, c.RedisURL = BackendRedis, "http://127.0.0.1:6379" }, "redis_url"},
		{"redis prefix long", func(c *Config) {
			c.Backend, c.RedisURL, c.RedisPrefix = BackendRedis, "redis://x:6379", strings.Repeat("p", 65)
		}, "redis_prefix"},
		{"redis timeout", func(c *Config) { c.RedisTimeout = time.Minute }, "redis_timeout"},
		{"redis timeout negative", func(c *Config) { c.RedisTimeout = -time.Second }, "redis_timeout"},
	} {
		cfg := Defaults()
		cfg.Fill()
		c.edit(&cfg)
		cfg.Fill()
		err := cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
