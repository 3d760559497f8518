package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"path"
	"strings"
	"time"
)

// Backends.
const (
	BackendMemory = "memory"
	BackendRedis  = "redis"
)

// Scopes: what a rule counts per.
const (
	ScopeKey    = "key"    // API key (identity layer's key id)
	ScopeUser   = "user"   // user (identity subject, per tenant)
	ScopeTenant = "tenant" // tenant
	ScopeIP     = "ip"     // client IP (IPv6 grouped by ipv6_prefix)
	ScopeRoute  = "route"  // API route, e.g. /v1/chat/completions
	ScopeModel  = "model"  // requested model name
	ScopeGlobal = "global" // everything that matches the rule, together
)

// max_tokens actions.
const (
	MaxTokensBlock = "block" // refuse: 400 max_tokens_exceeded
	MaxTokensClamp = "clamp" // lower the request's max_tokens to the cap
	MaxTokensFlag  = "flag"  // pass unchanged, record a finding
)

// Stream usage modes.
const (
	StreamUsageAsk      = "ask"      // ask the upstream for usage (OpenAI stream_options.include_usage)
	StreamUsageEstimate = "estimate" // never change the request; estimate from streamed bytes
)

// Config is the layer's section under "layers: ratelimit:".
type Config struct {
	// Backend keeps the counters: "memory" (default; this replica only,
	// lost on restart) or "redis" (shared by every replica using the same
	// Redis, so N replicas enforce one limit, not N).
	Backend string `yaml:"backend"`
	// RedisURL is the Redis address for backend redis, e.g.
	// "redis://127.0.0.1:6379/0" (rediss:// for TLS). Prefer RedisURLEnv
	// when the URL carries a password.
	RedisURL string `yaml:"redis_url"`
	// RedisURLEnv names an environment variable holding the Redis URL; it
	// wins over RedisURL when set and non-empty.
	RedisURLEnv string `yaml:"redis_url_env"`
	// RedisPrefix starts every Redis key the layer writes. Default
	// "rampart:rl:".
	RedisPrefix string `yaml:"redis_prefix"`
	// RedisTimeout bounds one Redis call (dial, read, write). Default 250ms.
	// A slower or unreachable Redis is a layer failure: the layer's failure
	// mode decides (closed by default: 503).
	RedisTimeout time.Duration `yaml:"redis_timeout"`
	// MaxEntries caps the keys the memory backend holds (default 100000,
	// about 200 bytes each). Past it the least recently used key is
	// forgotten, which resets that key's limits.
	MaxEntries int `yaml:"max_entries"`
	// IPv6Prefix groups IPv6 clients by this prefix length for scope ip
	// (default 64: one customer usually holds a whole /64). 128 counts
	// every address separately.
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// ConcurrencyLease is how long the redis backend keeps a max_parallel
	// slot that is never released (its replica died mid-request). Default
	// 15m; keep it above the longest upstream stream.
	ConcurrencyLease time.Duration `yaml:"concurrency_lease"`
	// StreamUsage is how a token-counting rule learns the completion
	// tokens of an OpenAI stream whose client did not ask for usage: "ask"
	// (default) adds stream_options.include_usage to the upstream request
	// and hides the extra usage-only chunk from the client; "estimate"
	// leaves the request alone and charges streamed bytes / 4 (for
	// OpenAI-compatible upstreams that reject stream_options).
	StreamUsage string `yaml:"stream_usage"`
	// BudgetAlertPercent sends a budget.alert through the incident
	// webhooks (layers.blocklist.incident.webhooks) when a USD budget's
	// spend reaches this percentage of its limit, and again when it is
	// used up; once per budget and window. Default 80; -1: no alerts.
	BudgetAlertPercent int `yaml:"budget_alert_percent"`
	// Rules are the limits. Every rule whose filters match a request
	// applies; the request passes only if all of them admit it. Setting
	// rules replaces the default rule entirely.
	Rules []Rule `yaml:"rules"`
}

// Rule is one set of limits counted per scope. Zero means "no limit" for
// every numeric field.
type Rule struct {
	// Name identifies the rule in answers, audit and backend keys. Default
	// "<scope>-<index>". Renaming a rule starts its counters afresh.
	Name string `yaml:"name"`
	// Scope is what the rule counts per: key, user, tenant, ip, route,
	// model or global. Requests without that attribute (e.g. no identity
	// for scope key) are not counted by the rule.
	Scope string `yaml:"scope"`
	// Models restricts the rule to requests for these models (path.Match
	// globs, e.g. "gpt-4*"). Empty: every model.
	Models []string `yaml:"models"`
	// Routes restricts the rule to these API routes. Empty: every route.
	Routes []string `yaml:"routes"`

	// RPM is requests per minute (GCRA).
	RPM int64 `yaml:"rpm"`
	// Burst is how many requests may arrive at once after an idle period.
	// Default RPM. Over any minute at most RPM+Burst requests pass.
	Burst int64 `yaml:"burst"`
	// TPM is total tokens per minute: prompt tokens are counted and charged
	// before the request goes upstream, completion tokens are charged when
	// the answer ends (from the upstream's usage). Burst is TPM.
	TPM int64 `yaml:"tpm"`
	// PromptTPM is prompt tokens per minute (counted before forwarding,
	// corrected by the upstream's usage afterwards).
	PromptTPM int64 `yaml:"prompt_tpm"`
	// MaxParallel is the most requests in flight at once.
	MaxParallel int64 `yaml:"max_parallel"`
	// BudgetDay is total tokens per calendar day (UTC).
	BudgetDay int64 `yaml:"budget_day"`
	// RequestsDay and RequestsMonth are budgets in requests per calendar
	// day / month (UTC): with models ["tools/call <tool>"] on an MCP
	// route, a call budget per tool.
	RequestsDay   int64 `yaml:"requests_day"`
	RequestsMonth int64 `yaml:"requests_month"`
	// BudgetMonth is total tokens per calendar month (UTC).
	BudgetMonth int64 `yaml:"budget_month"`
	// BudgetUSDDay is spend in USD per calendar day (UTC): each request's
	// cost (the gateway's price table, see pricing) is charged when it
	// ends, and requests are refused (429 budget_exceeded) once the spend
	// reached the budget. At most 1000000.
	BudgetUSDDay float64 `yaml:"budget_usd_day"`
	// BudgetUSDMonth is spend in USD per calendar month (UTC).
	BudgetUSDMonth float64 `yaml:"budget_usd_month"`
	// MaxPromptTokens refuses (400 prompt_too_large) a request whose
	// prompt counts more tokens.
	MaxPromptTokens int64 `yaml:"max_prompt_tokens"`
	// MaxTokens caps the max_tokens (OpenAI also max_completion_tokens,
	// Responses max_output_tokens, Gemini maxOutputTokens) a client may
	// ask for, over all the answers of a request (n, best_of,
	// candidateCount: each answer gets MaxTokens divided by their number).
	MaxTokens int64 `yaml:"max_tokens"`
	// MaxTokensAction is what a request above MaxTokens gets: "block"
	// (default, 400 max_tokens_exceeded), "clamp" (the request goes
	// upstream with max_tokens lowered to MaxTokens) or "flag" (pass
	// unchanged, record a finding). With "clamp" or "block", a request
	// without max_tokens gets MaxTokensDefault, or else MaxTokens.
	MaxTokensAction string `yaml:"max_tokens_action"`
	// MaxTokensDefault is set as max_tokens on a chat or completion request
	// that has none (never above any matching rule's MaxTokens). 0: leave
	// such requests alone (unless MaxTokensAction is "clamp" or "block").
	MaxTokensDefault int64 `yaml:"max_tokens_default"`
}

// Defaults returns the zero-config configuration: memory backend and one
// generous per-IP rule (600 requests per minute, 64 in flight), enough to
// stop a runaway client without troubling normal use.
func Defaults() Config {
	return Config{
		Backend:            BackendMemory,
		RedisPrefix:        "rampart:rl:",
		RedisTimeout:       250 * time.Millisecond,
		MaxEntries:         100_000,
		IPv6Prefix:         64,
		ConcurrencyLease:   15 * time.Minute,
		StreamUsage:        StreamUsageAsk,
		BudgetAlertPercent: 80,
		Rules:              []Rule{{Name: "ip-default", Scope: ScopeIP, RPM: 600, MaxParallel: 64}},
	}
}

// fill sets defaults for fields left empty.
func (c *Config) fill() {
	d := Defaults()
	if c.Backend == "" {
		c.Backend = d.Backend
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = d.RedisPrefix
	}
	if c.RedisTimeout == 0 {
		c.RedisTimeout = d.RedisTimeout
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = d.MaxEntries
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = d.IPv6Prefix
	}
	if c.ConcurrencyLease == 0 {
		c.ConcurrencyLease = d.ConcurrencyLease
	}
	if c.StreamUsage == "" {
		c.StreamUsage = d.StreamUsage
	}
	if c.BudgetAlertPercent == 0 {
		c.BudgetAlertPercent = d.BudgetAlertPercent
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Name == "" {
			r.Name = fmt.Sprintf("%s-%d", r.Scope, i)
		}
		if r.Burst == 0 {
			r.Burst = r.RPM
		}
		if r.MaxTokensAction == "" {
			r.MaxTokensAction = MaxTokensBlock
		}
	}
}

// maxLimit bounds every numeric limit (keeps GCRA arithmetic exact).
const maxLimit = 1 << 40

// MaxBudgetUSD bounds a USD budget (its nano-USD counter stays exact in
// Redis, whose Lua numbers are doubles).
const MaxBudgetUSD = 1_000_000

// Validate checks the configuration (after defaults).
func (c *Config) Validate() error {
	var errs []error
	switch c.Backend {
	case BackendMemory:
	case BackendRedis:
		if c.RedisURL == "" && c.RedisURLEnv == "" {
			errs = append(errs, errors.New("ratelimit: backend redis needs redis_url or redis_url_env"))
		}
	default:
		errs = append(errs, fmt.Errorf("ratelimit: backend %q: want memory or redis", c.Backend))
	}
	if c.StreamUsage != StreamUsageAsk && c.StreamUsage != StreamUsageEstimate {
		errs = append(errs, fmt.Errorf("ratelimit: stream_usage %q: want ask or estimate", c.StreamUsage))
	}
	if c.RedisTimeout < 0 || c.ConcurrencyLease < 0 {
		errs = append(errs, errors.New("ratelimit: redis_timeout and concurrency_lease must not be negative"))
	}
	if c.ConcurrencyLease > 0 && c.ConcurrencyLease < time.Second {
		errs = append(errs, errors.New("ratelimit: concurrency_lease below 1s"))
	}
	if c.MaxEntries < 0 || c.MaxEntries > 1<<30 {
		errs = append(errs, fmt.Errorf("ratelimit: max_entries %d outside [0, 2^30]", c.MaxEntries))
	}
	if c.IPv6Prefix < 0 || c.IPv6Prefix > 128 {
		errs = append(errs, fmt.Errorf("ratelimit: ipv6_prefix %d outside [1, 128]", c.IPv6Prefix))
	}
	if c.BudgetAlertPercent != -1 && (c.BudgetAlertPercent < 1 || c.BudgetAlertPercent > 100) {
		return fmt.Errorf("ratelimit: budget_alert_percent %d: want 1-100, or -1 for no alerts", c.BudgetAlertPercent)
	}
	if len(c.RedisPrefix) > 64 {
		errs = append(errs, errors.New("ratelimit: redis_prefix longer than 64 bytes"))
	}
	names := map[string]bool{}
	for i := range c.Rules {
		if err := c.Rules[i].validate(); err != nil {
			errs = append(errs, fmt.Errorf("ratelimit: rules[%d]: %w", i, err))
		}
		if names[c.Rules[i].Name] {
			errs = append(errs, fmt.Errorf("ratelimit: rules[%d]: duplicate name %q", i, c.Rules[i].Name))
		}
		names[c.Rules[i].Name] = true
	}
	return errors.Join(errs...)
}

func (r *Rule) validate() error {
	switch r.Scope {
	case ScopeKey, ScopeUser, ScopeTenant, ScopeIP, ScopeRoute, ScopeModel, ScopeGlobal:
	case "":
		return errors.New("scope missing (key, user, tenant, ip, route, model or global)")
	default:
		return fmt.Errorf("scope %q: want key, user, tenant, ip, route, model or global", r.Scope)
	}
	if r.Name == "" || len(r.Name) > 64 || strings.ContainsFunc(r.Name, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')
	}) {
		return fmt.Errorf("name %q: want 1-64 of [A-Za-z0-9._-]", r.Name)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"rpm", r.RPM}, {"burst", r.Burst}, {"tpm", r.TPM}, {"prompt_tpm", r.PromptTPM},
		{"max_parallel", r.MaxParallel}, {"budget_day", r.BudgetDay}, {"budget_month", r.BudgetMonth},
		{"requests_day", r.RequestsDay}, {"requests_month", r.RequestsMonth},
		{"max_prompt_tokens", r.MaxPromptTokens}, {"max_tokens", r.MaxTokens},
		{"max_tokens_default", r.MaxTokensDefault}} {
		if f.v < 0 || f.v > maxLimit {
			return fmt.Errorf("%s %d outside [0, 2^40]", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"budget_usd_day", r.BudgetUSDDay}, {"budget_usd_month", r.BudgetUSDMonth}} {
		if !(f.v >= 0 && f.v <= MaxBudgetUSD) {
			return fmt.Errorf("%s %v outside [0, %d]", f.name, f.v, MaxBudgetUSD)
		}
	}
	if r.Burst > 0 && r.RPM == 0 {
		return errors.New("burst without rpm")
	}
	switch r.MaxTokensAction {
	case MaxTokensBlock, MaxTokensClamp, MaxTokensFlag:
	default:
		return fmt.Errorf("max_tokens_action %q: want block, clamp or flag", r.MaxTokensAction)
	}
	if r.MaxTokensDefault > math.MaxInt32 {
		return fmt.Errorf("max_tokens_default %d above 2^31-1", r.MaxTokensDefault)
	}
	if r.MaxTokens > 0 && r.MaxTokensDefault > r.MaxTokens {
		return fmt.Errorf("max_tokens_default %d above max_tokens %d", r.MaxTokensDefault, r.MaxTokens)
	}
	for _, g := range r.Models {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("models: bad pattern %q", g)
		}
	}
	for _, rt := range r.Routes {
		if !strings.HasPrefix(rt, "/") {
			return fmt.Errorf("routes: %q is not a path", rt)
		}
	}
	if r.RPM == 0 && r.TPM == 0 && r.PromptTPM == 0 && r.MaxParallel == 0 && r.BudgetDay == 0 && r.RequestsDay == 0 && r.RequestsMonth == 0 &&
		r.BudgetMonth == 0 && r.BudgetUSDDay == 0 && r.BudgetUSDMonth == 0 && r.MaxPromptTokens == 0 && r.MaxTokens == 0 && r.MaxTokensDefault == 0 {
		return errors.New("sets no limit")
	}
	return nil
}
