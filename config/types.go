// Package config loads, validates and defaults rampart's configuration: a
// YAML file (unknown keys are errors), RAMPART_* environment overrides, and
// an embedded default policy used when no file is given.
package config

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole gateway configuration.
type Config struct {
	// Server is the HTTP listener.
	Server Server `yaml:"server"`
	// DataDir holds the embedded SQLite database and other state.
	// Default "./rampart-data". Flag --data overrides it.
	DataDir string `yaml:"data_dir"`
	// Store selects where keys, tenants, blocks, secrets and the audit
	// log live: the embedded SQLite database (default) or PostgreSQL,
	// which several replicas share.
	Store Store `yaml:"store"`
	// Upstreams are the model providers rampart forwards to. Empty: the
	// built-in demo model answers (clearly labelled, for trying rampart out).
	Upstreams []Upstream `yaml:"upstreams"`
	// Routing decides how several upstreams that serve one model share
	// and back up each other: pool strategy, retries, circuit breakers.
	Routing Routing `yaml:"routing"`
	// Pricing turns token usage into cost (audit, spend, USD budgets).
	Pricing Pricing `yaml:"pricing"`
	// Layers configures each security layer by name (see layers/chain.go
	// for the order). A layer not listed runs with its defaults.
	Layers map[string]Layer `yaml:"layers"`
	// Audit configures the audit log.
	Audit Audit `yaml:"audit"`
	// Log configures structured logging.
	Log Log `yaml:"log"`
	// Telemetry configures OpenTelemetry tracing (off by default).
	Telemetry Telemetry `yaml:"telemetry"`
	// Secrets configures the master key that encrypts secrets kept in the
	// store (upstream credentials, captured audit content).
	Secrets Secrets `yaml:"secrets"`
	// MCP fronts Model Context Protocol servers at /mcp/<name> (config/mcp.go).
	MCP MCP `yaml:"mcp"`
	// Incident configures automatic incident response (package incident:
	// scores per identity, blocks, throttles, webhooks; its README lists
	// the keys). It replaces layers.blocklist.incident, which is still
	// read but deprecated. Takes effect at start (a change needs a
	// restart).
	Incident Section `yaml:"incident,omitempty"`
}

// Store selects the state backend. Changing it needs a restart.
type Store struct {
	// Driver is "sqlite" (default: one file under data_dir; for a single
	// replica) or "postgres" (shared by every replica; needed for
	// keys, blocks and audit to be the same on all of them).
	Driver string `yaml:"driver"`
	// DSNEnv names the environment variable holding the PostgreSQL
	// connection string (postgres://user:pass@host:5432/db?sslmode=verify-full).
	// The DSN is never read from the file so its password stays out of
	// ConfigMaps. Default RAMPART_POSTGRES_DSN.
	DSNEnv string `yaml:"dsn_env"`
	// Timeout is the deadline of every store call the gateway makes
	// (key and tenant lookups, admin requests, audit writes, blocks,
	// secrets, spend, MCP pins, incident blocks): a hung database answers
	// within it with 503 store_unavailable (identity_unavailable while
	// authenticating) instead of stalling requests. Bulk jobs (subject
	// erasure, audit retention purge, data-key rewrap) keep their own
	// longer bounds (StatementTimeout when their caller sets none).
	// Default 2s, at most 1m.
	Timeout time.Duration `yaml:"timeout"`
	// StatementTimeout is PostgreSQL's server-side statement_timeout on
	// every connection of the pool (unless the DSN sets one): the server
	// ends any single statement that runs longer, even when the client's
	// cancel request cannot reach it. Bulk jobs' statements must fit in
	// it, so it is at least Timeout. Default 30s. Not used with SQLite.
	StatementTimeout time.Duration `yaml:"statement_timeout"`
}

// Server configures the HTTP listener and its protections against slow or
// oversized clients.
type Server struct {
	// Listen is the address to listen on. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// MaxBodyBytes caps a request body; larger requests get 413.
	// Default 10 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxResponseBytes caps a whole (non-streamed) upstream response that
	// output layers must read; larger answers fail closed with 502.
	// Default 32 MiB.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// MaxHeaderBytes caps request headers. Default 64 KiB.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ReadHeaderTimeout bounds reading request headers. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request. Default 60s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownGrace is how long shutdown waits for in-flight requests and
	// streams to finish. Default 30s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// WriteTimeout is a per-write deadline against clients that stop
	// reading: each write of an answer (at most 64 KiB) and each flush of a
	// stream must reach the client within it, or the connection is closed.
	// A stream that keeps flowing is never cut. Default 60s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// MaxConnsPerIP caps the connections one client IP may hold open
	// (IPv6: per /64); more are closed at accept, before TLS or HTTP.
	// Connections from trusted_proxies are exempt. Default 256.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// MaxConns caps all open client connections together. Default 10000.
	MaxConns int `yaml:"max_conns"`
	// TrustedProxies are the reverse proxies and load balancers in front
	// of rampart, as CIDRs or addresses. Only for a connection from one of
	// them is X-Forwarded-For read, right to left, skipping trusted hops,
	// to find the client address (for the network layer, rate limits,
	// audit). Empty (default): X-Forwarded-For is ignored, since any
	// client can send one.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLS serves HTTPS when cert_file and key_file are set.
	TLS ServerTLS `yaml:"tls"`
	// CORS lets browser apps on listed origins call rampart. Off by default.
	CORS ServerCORS `yaml:"cors"`
}

// ServerTLS configures HTTPS. TLS 1.2 is the minimum (1.3 is negotiated
// whenever the client offers it) and TLS 1.2 uses only ECDHE key exchange
// with AEAD ciphers.
type ServerTLS struct {
	// CertFile is the PEM certificate chain, leaf first. Flag --tls-cert.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key. Flag --tls-key.
	KeyFile string `yaml:"key_file"`
	// ClientCAFile, when set, requires every client to present a
	// certificate issued by one of these PEM CAs (mTLS); the identity
	// layer can map it to a tenant and role. Flag --client-ca.
	ClientCAFile string `yaml:"client_ca_file"`
	// MinVersion is "1.2" (default) or "1.3".
	MinVersion string `yaml:"min_version"`
	// ReloadInterval is how often the three files are checked for new
	// contents (rotation, Kubernetes secret updates); new handshakes use
	// them without a restart. Default 10s.
	ReloadInterval time.Duration `yaml:"reload_interval"`
	// HSTSMaxAge is the Strict-Transport-Security max-age sent on answers
	// over TLS. Default 8760h (one year).
	HSTSMaxAge time.Duration `yaml:"hsts_max_age"`
	// HSTSIncludeSubdomains adds includeSubDomains to the HSTS header.
	HSTSIncludeSubdomains bool `yaml:"hsts_include_subdomains"`
}

// Enabled reports whether HTTPS is configured.
func (t ServerTLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// ServerCORS configures cross-origin requests from browsers. Preflight
// requests are answered before authentication.
type ServerCORS struct {
	// AllowedOrigins are exact origins ("https://app.example.com") or
	// patterns with one wildcard ("https://*.example.com"); "*" alone
	// allows every origin. Empty (default): CORS off, no CORS headers.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowedMethods default to GET and POST.
	AllowedMethods []string `yaml:"allowed_methods"`
	// AllowedHeaders browsers may send. Default: Authorization,
	// Content-Type, X-Api-Key, Anthropic-Version and the other headers the
	// official SDKs send.
	AllowedHeaders []string `yaml:"allowed_headers"`
	// ExposedHeaders scripts may read. Default: X-Request-Id, Retry-After,
	// X-RateLimit-Limit, -Remaining, -Reset.
	ExposedHeaders []string `yaml:"exposed_headers"`
	// MaxAge is how long browsers may cache a preflight answer. Default 10m.
	MaxAge time.Duration `yaml:"max_age"`
	// AllowCredentials lets browsers send cookies and client certificates
	// cross-origin (not with "*"). Default false.
	AllowCredentials bool `yaml:"allow_credentials"`
}

// Upstream is one model provider endpoint.
type Upstream struct {
	// Name identifies the upstream in routing, metrics and audit.
	Name string `yaml:"name"`
	// Provider is "openai" (any OpenAI-compatible API: OpenAI, Azure
	// OpenAI, vLLM, Ollama, ...), "anthropic" or "gemini" (Google's Gemini
	// API, base URL https://generativelanguage.googleapis.com/v1beta).
	Provider string `yaml:"provider"`
	// BaseURL is the API base URL as the provider's SDK takes it, e.g.
	// "https://api.openai.com/v1" or "https://api.anthropic.com/v1".
	BaseURL string `yaml:"base_url"`
	// APIKeyEnv names the environment variable holding the provider
	// credential rampart sends upstream. Clients never see it.
	// Default OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY by provider.
	APIKeyEnv string `yaml:"api_key_env"`
	// APIKeySecret names a secret in rampart's encrypted store (see
	// `rampart secrets set`) holding the credential, instead of
	// api_key_env. Needs a master key (secrets section). Set one of the two.
	APIKeySecret string `yaml:"api_key_secret"`
	// Models are glob patterns (path.Match) of model names routed here,
	// e.g. ["gpt-*", "o3*"]. Every upstream of the route's provider whose
	// pattern matches a model forms that model's pool (see Routing; by
	// default the first healthy one in config order answers); upstreams
	// with no patterns form the pool for models no pattern matches.
	Models []string `yaml:"models"`
	// ModelAliases maps a model name clients use to the name this upstream
	// knows it by (e.g. "gpt-4o-mini": "prod-mini-deployment"): the
	// request's "model" is rewritten when it goes to this upstream.
	// Policy, pricing and audit keep the client's name.
	ModelAliases map[string]string `yaml:"model_aliases"`
	// Weight is this upstream's share of traffic under strategy weighted
	// (relative to the other members of its priority). Default 1.
	Weight int `yaml:"weight"`
	// Priority orders a pool: lower numbers are tried first; strategies
	// balance among the members of the lowest priority that are healthy,
	// and fall back to higher numbers. Default 0.
	Priority int `yaml:"priority"`
	// Routes limits this upstream to some API routes (e.g.
	// ["/v1/embeddings"]); empty means all routes of its provider.
	Routes []string `yaml:"routes"`
	// Timeout bounds a whole non-streamed upstream call; for streams it
	// bounds the wait for the response headers. Default 120s.
	Timeout time.Duration `yaml:"timeout"`
	// StreamIdleTimeout ends a stream when the upstream sends nothing for
	// this long. Default 60s.
	StreamIdleTimeout time.Duration `yaml:"stream_idle_timeout"`
	// ConnectTimeout bounds dialing the upstream. Default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// Auth is how the credential goes upstream: "bearer" (Authorization:
	// Bearer, the openai default), "x-api-key" (the anthropic default),
	// "x-goog-api-key" (the gemini default),
	// "api-key" (the api-key header of Azure OpenAI keys) or "entra" (a
	// Microsoft Entra ID token that rampart obtains with the client
	// credentials in Entra and renews before it expires, sent as Bearer).
	Auth string `yaml:"auth"`
	// Entra configures auth: entra.
	Entra *EntraAuth `yaml:"entra"`
}

// EntraAuth is a Microsoft Entra ID application (service principal) whose
// client-credentials tokens authenticate rampart to Azure OpenAI.
type EntraAuth struct {
	TenantID string `yaml:"tenant_id"`
	ClientID string `yaml:"client_id"`
	// ClientSecretEnv names the environment variable holding the client
	// secret. Default AZURE_CLIENT_SECRET.
	ClientSecretEnv string `yaml:"client_secret_env"`
	// Scope defaults to https://cognitiveservices.azure.com/.default.
	Scope string `yaml:"scope"`
	// TokenURL overrides https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token
	// (sovereign clouds, tests).
	TokenURL string `yaml:"token_url"`
}

// Routing configures pools of upstreams. Changes take effect on reload.
type Routing struct {
	// Strategy is how a pool picks the upstream to try first: "fallback"
	// (default: config order, the next one only when the one before
	// fails or its breaker is open), "round_robin", "weighted" (random by
	// weight) or "least_in_flight". The other members remain fallbacks.
	Strategy string `yaml:"strategy"`
	// Groups set a strategy for the models matching their patterns; the
	// first group whose pattern matches the model wins.
	Groups []RoutingGroup `yaml:"groups"`
	// Retry bounds retries and fallbacks.
	Retry Retry `yaml:"retry"`
	// Breaker configures the circuit breaker kept per upstream.
	Breaker Breaker `yaml:"breaker"`
}

// RoutingGroup is a strategy for the models matching Models.
type RoutingGroup struct {
	// Models are glob patterns (path.Match) of model names.
	Models []string `yaml:"models"`
	// Strategy: fallback, round_robin, weighted or least_in_flight.
	Strategy string `yaml:"strategy"`
}

// Retry bounds how often a request is tried again on another (or the
// same) upstream. Only failures before any byte reached the client are
// retried: connection failures, no response headers within the upstream's
// timeout, and answers 429, 500, 502, 503, 504.
type Retry struct {
	// MaxAttempts is the most upstream calls per request, first included.
	// Default: the pool's size (each member once); 1 turns retries off.
	// At most 10.
	MaxAttempts int `yaml:"max_attempts"`
	// Deadline bounds the whole sequence of attempts: no attempt starts
	// after it, and each attempt's timeout is cut to what is left.
	// Default 120s.
	Deadline time.Duration `yaml:"deadline"`
	// Backoff is the base wait before trying an upstream again that has
	// already failed this request (exponential, full jitter); moving to a
	// member not yet tried does not wait. Default 200ms.
	Backoff time.Duration `yaml:"backoff"`
	// MaxWait caps one wait, including one asked for by Retry-After: an
	// upstream asking for a longer wait is not tried again for this
	// request. Default 5s.
	MaxWait time.Duration `yaml:"max_wait"`
}

// Breaker configures the circuit breaker of each upstream: after Failures
// consecutive failures, or an error rate of at least ErrorRate over at
// least MinRequests calls within Window, the upstream is skipped (open)
// for Cooldown; then one probe call (half-open) decides whether it closes
// again. Failures are what Retry retries.
type Breaker struct {
	// Failures is the consecutive failures that open the breaker.
	// Default 5; -1 disables the breaker.
	Failures int `yaml:"failures"`
	// ErrorRate opens the breaker at this failure ratio (0-1]. Default 0.5.
	ErrorRate float64 `yaml:"error_rate"`
	// MinRequests is the calls within Window before ErrorRate applies.
	// Default 20.
	MinRequests int `yaml:"min_requests"`
	// Window is the period over which calls are counted. Default 60s.
	Window time.Duration `yaml:"window"`
	// Cooldown is how long an open breaker stays open. Default 30s.
	Cooldown time.Duration `yaml:"cooldown"`
}

// Pricing is the price table. Reloadable.
type Pricing struct {
	// Defaults includes the embedded table of well-known OpenAI and
	// Anthropic models after Prices (see pricing/prices.yaml for its date
	// and source). Default true.
	Defaults *bool `yaml:"defaults"`
	// Prices are checked before the embedded table; the first entry whose
	// pattern matches the model (the client's name) wins.
	Prices []Price `yaml:"prices"`
}

// Price is what one group of models costs, in USD per 1M tokens.
type Price struct {
	// Models are glob patterns (path.Match) of model names.
	Models []string `yaml:"models"`
	// Input is the price of prompt tokens.
	Input float64 `yaml:"input"`
	// Output is the price of completion tokens.
	Output float64 `yaml:"output"`
	// CachedInput is the price of prompt tokens read from the provider's
	// cache. Default: Input.
	CachedInput *float64 `yaml:"cached_input"`
}

// Layer is the generic part of every layer's configuration. Options holds
// the layer-specific rest, decoded strictly by the layer itself.
type Layer struct {
	// Mode is "enforce" (apply decisions), "monitor" (record what would
	// have happened, let traffic through) or "off". Default per layer.
	Mode string `yaml:"mode"`
	// Failure is "closed" (an internal error blocks with 503, the default)
	// or "open" (record the error and continue).
	Failure string `yaml:"failure"`
	// Options are the layer's own settings (see the layer's README).
	Options map[string]any `yaml:",inline"`

	// Where the section came from (set by Load and Config.Layer), so that
	// errors name the file and line of the offending key; not
	// configuration. node is the section's YAML value (nil when the file
	// has no such section); env is the RAMPART_LAYERS_* variable that
	// created a section the file does not have.
	name   string
	line   int
	source string
	node   *yaml.Node
	env    string
	top    bool // a top-level Section's view: fields are named name.key
}

// Audit configures the audit log.
type Audit struct {
	// Enabled turns the audit log on. Default true.
	Enabled *bool `yaml:"enabled"`
	// Sync writes each record before the answer completes (no loss window,
	// slower). Default false: records are batched.
	Sync bool `yaml:"sync"`
	// BatchSize is the maximum records per write batch. Default 256.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval bounds how long a record waits in memory (the loss
	// window on a crash). Default 1s.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// QueueSize bounds records waiting to be written; when full, records
	// are counted as dropped (metric) rather than blocking requests.
	// Default 10000.
	QueueSize int `yaml:"queue_size"`
	// HMACKeyEnv names the environment variable holding the key for the
	// content HMAC in audit records. Unset: a random key is generated and
	// kept in the data directory.
	HMACKeyEnv string `yaml:"hmac_key_env"`
	// CaptureContent stores raw prompt and answer text in audit records.
	// Default false; only turn on where policy allows it.
	CaptureContent bool `yaml:"capture_content"`
	// Retention is how long audit records are kept; a background purge
	// deletes older ones. Default 720h (30 days); 0 keeps them forever.
	Retention *time.Duration `yaml:"retention"`
	// PurgeInterval is how often the retention purge runs. Default 1h.
	PurgeInterval time.Duration `yaml:"purge_interval"`
	// WriteTimeout bounds one write of a batch to the store (three
	// attempts per batch). Default 2s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// SpoolMaxBytes bounds the local spool file (audit-spool.jsonl in the
	// data directory) that holds records the store could not take; they
	// are written to the store when it is back (every spool_replay).
	// Records that find the spool full are lost and counted in
	// rampart_audit_dropped_total. Default 64 MiB; -1: no spool.
	SpoolMaxBytes int64 `yaml:"spool_max_bytes"`
	// SpoolReplay is how often spooled records are retried. Default 5s.
	SpoolReplay time.Duration `yaml:"spool_replay"`
}

// Secrets configures envelope encryption of stored secrets: each secret is
// encrypted (AES-256-GCM) under its own data key, and data keys are
// wrapped by the master key. The master key is read from a file or an
// environment variable (32 bytes, base64 or hex) and never stored.
type Secrets struct {
	// MasterKeyEnv names the environment variable holding the master key.
	// Default RAMPART_MASTER_KEY. Unset variable: no master key (storing
	// secrets and audit content capture are unavailable).
	MasterKeyEnv string `yaml:"master_key_env"`
	// MasterKeyFile is a file holding the master key; when set it is used
	// instead of master_key_env.
	MasterKeyFile string `yaml:"master_key_file"`
	// PreviousMasterKeyEnv names the environment variable holding the
	// previous master key during a rotation (decrypt only). Default
	// RAMPART_PREVIOUS_MASTER_KEY.
	PreviousMasterKeyEnv string `yaml:"previous_master_key_env"`
	// PreviousMasterKeyFile is a file holding the previous master key;
	// when set it is used instead of previous_master_key_env.
	PreviousMasterKeyFile string `yaml:"previous_master_key_file"`
}

// Log configures structured (slog JSON) logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}
