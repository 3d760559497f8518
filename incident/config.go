package incident

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/limits"
)

// Violation kinds: what a layer's outcome says the caller did (see
// Classify). Each has a severity in points (Config.Severities).
const (
	KindAuthFailure     = "auth_failure"     // identity: missing/invalid credentials, auth lockout
	KindForbidden       = "forbidden"        // identity: route or model not permitted
	KindLimitHit        = "limit_hit"        // ratelimit: any limit refused the request
	KindInjectionBlock  = "injection_block"  // injection: blocked prompt injection
	KindInjectionFlag   = "injection_flag"   // injection: flagged (below the block score)
	KindContentBlock    = "content_block"    // inputpolicy, topics, guardmodel: blocked content
	KindLeak            = "leak"             // outputguard: blocked answer (secret, system prompt, canary leak)
	KindExtractionFlag  = "extraction_flag"  // extraction: model-extraction pattern flagged
	KindExtractionBlock = "extraction_block" // extraction: blocked
	KindOtherBlock      = "other_block"      // any other layer's block
)

// Kinds lists every violation kind.
func Kinds() []string {
	return []string{KindAuthFailure, KindForbidden, KindLimitHit, KindInjectionBlock, KindInjectionFlag,
		KindContentBlock, KindLeak, KindExtractionFlag, KindExtractionBlock, KindOtherBlock}
}

// Scopes: what a score is kept per.
const (
	ScopeKey  = "key"  // API key id
	ScopeUser = "user" // user (tenant and subject)
	ScopeIP   = "ip"   // client address (IPv6 grouped by ipv6_prefix)
)

// Actions a threshold takes.
const (
	ActionBlock    = "block"    // block the identity for TTL
	ActionThrottle = "throttle" // limit the identity to RPM requests per minute for TTL
	ActionAlert    = "alert"    // only notify (webhooks, audit, log)
)

// Backends: where the scores are kept.
const (
	BackendMemory = "memory" // this replica's memory (default)
	BackendRedis  = "redis"  // one Redis shared by every replica
)

// DefaultRedisTimeout bounds one Redis call (dial, read, write).
const DefaultRedisTimeout = 250 * time.Millisecond

// Webhook event names (Alert.Event).
const (
	EventAlert    = "incident.alert"
	EventBlock    = "incident.block"
	EventThrottle = "incident.throttle"
	// EventBudget is a spend budget reaching its alert percentage or its
	// limit (layers/ratelimit budget_usd_*; body BudgetAlert).
	EventBudget = "budget.alert"
	// EventMCPTool is an MCP tool definition withheld until an
	// administrator reviews it: new and poisoned, or changed since it was
	// approved (package mcpgw; body MCPToolAlert).
	EventMCPTool = "mcp.tool_withheld"
)

// Config is incident response's configuration (the "incident:" section of
// layers.blocklist).
type Config struct {
	// Enabled turns automatic incident response on. Default false: blocks
	// are then only created by administrators (admin API, CLI).
	Enabled bool `yaml:"enabled"`
	// HalfLife is how fast a score decays: it halves every HalfLife
	// without new violations. Default 10m.
	HalfLife time.Duration `yaml:"half_life"`
	// MaxIdentities caps the identities (keys, users, addresses) whose
	// scores are kept in memory; past it the least recently seen is
	// forgotten. Default 100000 (about 300 bytes each). With backend redis
	// it bounds the scores kept in memory while Redis fails.
	MaxIdentities int `yaml:"max_identities"`
	// Backend keeps the scores: "memory" (default; each replica scores
	// only the violations it sees, so with N replicas behind a balancer
	// that spreads one attacker's requests, thresholds are reached about N
	// times later) or "redis" (one score per identity shared by every
	// replica using the same Redis and redis_prefix; a threshold fires once
	// per cooldown across all of them). Incident response is never on the
	// request path: when Redis is unreachable, slow or failing, the
	// violation is scored in this replica's memory instead, counted in
	// rampart_incident_redis_errors_total and logged at most once a
	// minute, and Redis is tried again a second later.
	Backend string `yaml:"backend"`
	// RedisURL is the Redis address for backend redis, e.g.
	// "redis://127.0.0.1:6379/0" (rediss:// for TLS). Prefer RedisURLEnv
	// when the URL carries a password. It may be the rate limiter's Redis.
	RedisURL string `yaml:"redis_url"`
	// RedisURLEnv names an environment variable holding the Redis URL; it
	// wins over RedisURL when set and non-empty.
	RedisURLEnv string `yaml:"redis_url_env"`
	// RedisPrefix starts every Redis key incident response writes (one
	// hash per identity, which expires once its score has decayed below
	// 0.01 and its cooldowns are over). Default "rampart:incident:".
	// Replicas share scores only when they use the same prefix.
	RedisPrefix string `yaml:"redis_prefix"`
	// RedisTimeout bounds one Redis call (dial, read, write). Default
	// 250ms.
	RedisTimeout time.Duration `yaml:"redis_timeout"`
	// QueueSize bounds the violations waiting to be scored. The request
	// path never waits: when the queue is full the violation is dropped
	// and counted (rampart_incident_dropped_total). Default 10000.
	QueueSize int `yaml:"queue_size"`
	// CountMonitor also scores decisions of layers in monitor mode.
	// Default false: only enforced decisions count.
	CountMonitor bool `yaml:"count_monitor"`
	// IPv6Prefix groups IPv6 clients by this prefix length for scope ip
	// (and blocks the whole prefix). Default 64; 128 scores every address.
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// Severities are the points each violation kind adds to a score.
	// Kinds not listed keep their default; 0 ignores a kind. Defaults:
	// auth_failure 1, forbidden 1, limit_hit 0.5, injection_block 5,
	// injection_flag 1, content_block 2, leak 8, extraction_flag 3,
	// extraction_block 5, other_block 1.
	Severities map[string]float64 `yaml:"severities"`
	// Thresholds are the actions. Setting thresholds replaces the
	// defaults entirely (see DefaultThresholds).
	Thresholds []Threshold `yaml:"thresholds"`
	// Webhooks receive alerts as signed JSON.
	Webhooks []Webhook `yaml:"webhooks"`
	// GatewayID names this replica in alerts. Default: the host name.
	GatewayID string `yaml:"gateway_id"`
}

// Threshold is one action taken when an identity's score reaches Score.
type Threshold struct {
	// Name identifies the threshold in reasons, audit and alerts.
	// Default "<scope>-<action>-<index>".
	Name string `yaml:"name"`
	// Scope is what the score is kept per: key, user or ip.
	Scope string `yaml:"scope"`
	// Score is the threshold (points, after decay). Must be positive.
	Score float64 `yaml:"score"`
	// Action is block, throttle or alert. Block and throttle also alert.
	Action string `yaml:"action"`
	// TTL is how long a block or throttle lasts. Default 1h.
	TTL time.Duration `yaml:"ttl"`
	// RPM is a throttle's requests per minute.
	RPM int64 `yaml:"rpm"`
	// Cooldown is how long the threshold stays quiet for one identity
	// after it fired. Default: TTL for block and throttle, 15m for alert.
	Cooldown time.Duration `yaml:"cooldown"`
}

// Webhook is one alert receiver.
type Webhook struct {
	// URL receives POSTs of JSON alerts (http or https). Redirects are not
	// followed.
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the HMAC secret
	// (required; at least 16 bytes). Each POST carries
	// X-Rampart-Timestamp (Unix seconds) and X-Rampart-Signature:
	// sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">.
	SecretEnv string `yaml:"secret_env"`
	// Events selects what is sent: incident.alert, incident.block,
	// incident.throttle, budget.alert. Default all.
	Events []string `yaml:"events"`
	// Timeout bounds one delivery attempt. Default 5s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts bounds the attempts per alert (first try included).
	// Default 6.
	MaxAttempts int `yaml:"max_attempts"`
	// InitialBackoff is the wait before the first retry; it doubles per
	// retry (with ±50% jitter) up to MaxBackoff. Defaults 1s and 1m.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	// QueueSize bounds the alerts waiting for delivery; past it new
	// alerts are dropped and counted. Default 1000.
	QueueSize int `yaml:"queue_size"`
}

// DefaultSeverities returns the default points per violation kind.
func DefaultSeverities() map[string]float64 {
	return map[string]float64{
		KindAuthFailure: 1, KindForbidden: 1, KindLimitHit: 0.5, KindInjectionBlock: 5, KindInjectionFlag: 1,
		KindContentBlock: 2, KindLeak: 8, KindExtractionFlag: 3, KindExtractionBlock: 5, KindOtherBlock: 1,
	}
}

// DefaultThresholds are used when incident response is enabled without
// thresholds: alert on a key at 10 points, block a key or user for 1h at
// 20 (five blocked injections within about five minutes: four reach
// 20 only if they arrive at the same instant, since the score decays
// between them — with the 10m half-life four within 30s reach 19.5), throttle an address to 30 requests per minute for 15m at 20
// and block it for 1h at 50.
func DefaultThresholds() []Threshold {
	return []Threshold{
		{Name: "key-alert", Scope: ScopeKey, Score: 10, Action: ActionAlert},
		{Name: "key-block", Scope: ScopeKey, Score: 20, Action: ActionBlock, TTL: time.Hour},
		{Name: "user-block", Scope: ScopeUser, Score: 20, Action: ActionBlock, TTL: time.Hour},
		{Name: "ip-throttle", Scope: ScopeIP, Score: 20, Action: ActionThrottle, RPM: 30, TTL: 15 * time.Minute},
		{Name: "ip-block", Scope: ScopeIP, Score: 50, Action: ActionBlock, TTL: time.Hour},
	}
}

// Defaults returns the zero configuration: disabled, with default
// severities (thresholds are filled in by Fill).
func Defaults() Config {
	return Config{HalfLife: 10 * time.Minute, MaxIdentities: 100_000, QueueSize: 10_000, IPv6Prefix: 64,
		Severities: DefaultSeverities(), Backend: BackendMemory, RedisPrefix: DefaultRedisPrefix,
		RedisTimeout: DefaultRedisTimeout}
}

// Fill sets defaults for fields left empty.
func (c *Config) Fill() {
	d := Defaults()
	if c.HalfLife == 0 {
		c.HalfLife = d.HalfLife
	}
	if c.MaxIdentities == 0 {
		c.MaxIdentities = d.MaxIdentities
	}
	if c.QueueSize == 0 {
		c.QueueSize = d.QueueSize
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = d.IPv6Prefix
	}
	if c.Backend == "" {
		c.Backend = d.Backend
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = d.RedisPrefix
	}
	if c.RedisTimeout == 0 {
		c.RedisTimeout = d.RedisTimeout
	}
	sev := DefaultSeverities()
	for k, v := range c.Severities {
		sev[k] = v
	}
	c.Severities = sev
	if c.Thresholds == nil {
		c.Thresholds = DefaultThresholds()
	}
	for i := range c.Thresholds {
		t := &c.Thresholds[i]
		if t.Name == "" {
			t.Name = fmt.Sprintf("%s-%s-%d", t.Scope, t.Action, i)
		}
		if t.TTL == 0 && t.Action != ActionAlert {
			t.TTL = time.Hour
		}
		if t.Cooldown == 0 {
			t.Cooldown = t.TTL
			if t.Action == ActionAlert {
				t.Cooldown = 15 * time.Minute
			}
		}
	}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if len(w.Events) == 0 {
			w.Events = []string{EventAlert, EventBlock, EventThrottle, EventBudget, EventMCPTool}
		}
		if w.Timeout == 0 {
			w.Timeout = 5 * time.Second
		}
		if w.MaxAttempts == 0 {
			w.MaxAttempts = 6
		}
		if w.InitialBackoff == 0 {
			w.InitialBackoff = time.Second
		}
		if w.MaxBackoff == 0 {
			w.MaxBackoff = time.Minute
		}
		if w.QueueSize == 0 {
			w.QueueSize = 1000
		}
	}
}

// Validate checks the configuration (after Fill).
func (c *Config) Validate() error {
	var errs []error
	if c.HalfLife < time.Second {
		errs = append(errs, errors.New("half_life below 1s"))
	}
	if c.MaxIdentities < 1 || c.MaxIdentities > 1<<24 {
		errs = append(errs, fmt.Errorf("max_identities %d outside [1, 2^24]", c.MaxIdentities))
	}
	if c.QueueSize < 1 || c.QueueSize > 1<<20 {
		errs = append(errs, fmt.Errorf("queue_size %d outside [1, 2^20]", c.QueueSize))
	}
	if c.IPv6Prefix < 1 || c.IPv6Prefix > 128 {
		errs = append(errs, fmt.Errorf("ipv6_prefix %d outside [1, 128]", c.IPv6Prefix))
	}
	switch c.Backend {
	case BackendMemory:
	case BackendRedis:
		if c.RedisURL == "" && c.RedisURLEnv == "" {
			errs = append(errs, errors.New("backend redis needs redis_url or redis_url_env"))
		}
	default:
		errs = append(errs, fmt.Errorf("backend %q: want memory or redis", c.Backend))
	}
	if c.RedisURL != "" {
		if _, err := limits.RedisOptions(c.RedisURL, 0); err != nil {
			errs = append(errs, errors.New("redis_url: not a valid redis:// or rediss:// URL"))
		}
	}
	if c.RedisPrefix == "" || len(c.RedisPrefix) > 64 {
		errs = append(errs, errors.New("redis_prefix: want 1-64 bytes"))
	}
	if c.RedisTimeout < time.Millisecond || c.RedisTimeout > 10*time.Second {
		errs = append(errs, fmt.Errorf("redis_timeout %s outside [1ms, 10s]", c.RedisTimeout))
	}
	known := Kinds()
	for _, k := range sortedKeys(c.Severities) {
		if !slices.Contains(known, k) {
			errs = append(errs, fmt.Errorf("severities: unknown violation kind %q (known: %s)", k, strings.Join(known, ", ")))
		}
		if v := c.Severities[k]; v < 0 || v > 1000 {
			errs = append(errs, fmt.Errorf("severities.%s: %v outside [0, 1000]", k, v))
		}
	}
	names := map[string]bool{}
	for i, t := range c.Thresholds {
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("thresholds[%d]: %w", i, err))
		}
		if names[t.Name] {
			errs = append(errs, fmt.Errorf("thresholds[%d]: duplicate name %q", i, t.Name))
		}
		names[t.Name] = true
	}
	if len(c.Thresholds) > 64 {
		errs = append(errs, errors.New("more than 64 thresholds"))
	}
	for i, w := range c.Webhooks {
		if err := w.validate(); err != nil {
			errs = append(errs, fmt.Errorf("webhooks[%d]: %w", i, err))
		}
	}
	if len(c.GatewayID) > 128 {
		errs = append(errs, errors.New("gateway_id longer than 128 bytes"))
	}
	return errors.Join(errs...)
}

func (t *Threshold) validate() error {
	switch t.Scope {
	case ScopeKey, ScopeUser, ScopeIP:
	default:
		return fmt.Errorf("scope %q: want key, user or ip", t.Scope)
	}
	if t.Name == "" || len(t.Name) > 64 || strings.ContainsFunc(t.Name, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')
	}) {
		return fmt.Errorf("name %q: want 1-64 of [A-Za-z0-9._-]", t.Name)
	}
	if !(t.Score > 0) || t.Score > 1e6 {
		return fmt.Errorf("score %v: want a positive number up to 1e6", t.Score)
	}
	switch t.Action {
	case ActionBlock, ActionAlert:
		if t.RPM != 0 {
			return errors.New("rpm is only for action throttle")
		}
	case ActionThrottle:
		if t.RPM < 1 || t.RPM > 1_000_000 {
			return fmt.Errorf("throttle rpm %d outside [1, 1000000]", t.RPM)
		}
	default:
		return fmt.Errorf("action %q: want block, throttle or alert", t.Action)
	}
	if t.Action != ActionAlert && (t.TTL < time.Second || t.TTL > 366*24*time.Hour) {
		return fmt.Errorf("ttl %s outside [1s, 366d]", t.TTL)
	}
	if t.Cooldown < 0 {
		return errors.New("cooldown is negative")
	}
	return nil
}

func (w *Webhook) validate() error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("url must be an http(s) URL")
	}
	if u.User != nil {
		return errors.New("url must not carry credentials (the HMAC secret authenticates rampart)")
	}
	if w.SecretEnv == "" {
		return errors.New("secret_env is required (the environment variable with the HMAC secret)")
	}
	for _, e := range w.Events {
		switch e {
		case EventAlert, EventBlock, EventThrottle, EventBudget, EventMCPTool:
		default:
			return fmt.Errorf("event %q: want incident.alert, incident.block, incident.throttle, budget.alert or mcp.tool_withheld", e)
		}
	}
	if w.Timeout <= 0 || w.Timeout > time.Minute {
		return fmt.Errorf("timeout %s outside (0, 1m]", w.Timeout)
	}
	if w.MaxAttempts < 1 || w.MaxAttempts > 20 {
		return fmt.Errorf("max_attempts %d outside [1, 20]", w.MaxAttempts)
	}
	if w.InitialBackoff <= 0 || w.MaxBackoff < w.InitialBackoff || w.MaxBackoff > time.Hour {
		return errors.New("need 0 < initial_backoff <= max_backoff <= 1h")
	}
	if w.QueueSize < 1 || w.QueueSize > 100_000 {
		return fmt.Errorf("queue_size %d outside [1, 100000]", w.QueueSize)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
