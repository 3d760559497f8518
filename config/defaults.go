package config

import "time"

// Defaults, as documented on the fields in types.go and in README.md.
const (
	DefaultListen            = "127.0.0.1:8080"
	DefaultDataDir           = "./rampart-data"
	DefaultMaxBodyBytes      = 10 << 20
	DefaultMaxResponseBytes  = 32 << 20
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownGrace     = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultMaxConnsPerIP     = 256
	DefaultMaxConns          = 10000
	DefaultTLSMinVersion     = "1.2"
	DefaultTLSReload         = 10 * time.Second
	DefaultHSTSMaxAge        = 365 * 24 * time.Hour
	DefaultCORSMaxAge        = 10 * time.Minute

	DefaultUpstreamTimeout   = 120 * time.Second
	DefaultStreamIdleTimeout = 60 * time.Second
	DefaultConnectTimeout    = 10 * time.Second

	DefaultRoutingStrategy    = "fallback"
	DefaultRetryDeadline      = 120 * time.Second
	DefaultRetryBackoff       = 200 * time.Millisecond
	DefaultRetryMaxWait       = 5 * time.Second
	DefaultBreakerFailures    = 5
	DefaultBreakerErrorRate   = 0.5
	DefaultBreakerMinRequests = 20
	DefaultBreakerWindow      = 60 * time.Second
	DefaultBreakerCooldown    = 30 * time.Second

	DefaultAuditBatchSize     = 256
	DefaultAuditFlushInterval = time.Second
	DefaultAuditQueueSize     = 10000
	DefaultAuditRetention     = 720 * time.Hour
	DefaultAuditPurgeInterval = time.Hour
	DefaultAuditWriteTimeout  = 2 * time.Second
	// DefaultStoreTimeout is store.timeout, the deadline of every store call.
	DefaultStoreTimeout = 2 * time.Second
	// DefaultStatementTimeout is store.statement_timeout (PostgreSQL).
	DefaultStatementTimeout   = 30 * time.Second
	DefaultAuditSpoolMaxBytes = 64 << 20
	DefaultAuditSpoolReplay   = 5 * time.Second

	DefaultMasterKeyEnv         = "RAMPART_MASTER_KEY"
	DefaultStoreDriver          = "sqlite"
	DefaultPostgresDSNEnv       = "RAMPART_POSTGRES_DSN"
	DefaultPreviousMasterKeyEnv = "RAMPART_PREVIOUS_MASTER_KEY"

	DefaultLogLevel  = "info"
	DefaultLogFormat = "json"
)

// Providers are the accepted upstreams[].provider values and the
// environment variable each reads its credential from by default.
var Providers = map[string]string{
	"openai":    "OPENAI_API_KEY",
	"anthropic": "ANTHROPIC_API_KEY",
	"gemini":    "GEMINI_API_KEY",
}

// Default returns the configuration with every default filled in, no
// upstreams (the demo model answers) and no layer sections (each layer runs
// with its own defaults).
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// applyDefaults fills every unset (zero) field. A zero duration or size in
// the file therefore means "use the default".
func (c *Config) applyDefaults() {
	s := &c.Server
	setStr(&s.Listen, DefaultListen)
	setNum(&s.MaxBodyBytes, DefaultMaxBodyBytes)
	setNum(&s.MaxResponseBytes, DefaultMaxResponseBytes)
	setNum(&s.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setNum(&s.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setNum(&s.ReadTimeout, DefaultReadTimeout)
	setNum(&s.IdleTimeout, DefaultIdleTimeout)
	setNum(&s.ShutdownGrace, DefaultShutdownGrace)
	setNum(&s.WriteTimeout, DefaultWriteTimeout)
	setNum(&s.MaxConnsPerIP, DefaultMaxConnsPerIP)
	setNum(&s.MaxConns, DefaultMaxConns)
	setStr(&s.TLS.MinVersion, DefaultTLSMinVersion)
	setNum(&s.TLS.ReloadInterval, DefaultTLSReload)
	setNum(&s.TLS.HSTSMaxAge, DefaultHSTSMaxAge)
	setNum(&s.CORS.MaxAge, DefaultCORSMaxAge)

	setStr(&c.DataDir, DefaultDataDir)
	c.MCP.applyDefaults()

	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		setStr(&u.Name, u.Provider)
		if u.APIKeySecret == "" {
			setStr(&u.APIKeyEnv, Providers[u.Provider])
		}
		setNum(&u.Timeout, DefaultUpstreamTimeout)
		setNum(&u.StreamIdleTimeout, DefaultStreamIdleTimeout)
		setNum(&u.ConnectTimeout, DefaultConnectTimeout)
		setNum(&u.Weight, 1)
	}
	if c.Pricing.Defaults == nil {
		t := true
		c.Pricing.Defaults = &t
	}
	r := &c.Routing
	setStr(&r.Strategy, DefaultRoutingStrategy)
	setNum(&r.Retry.Deadline, DefaultRetryDeadline)
	setNum(&r.Retry.Backoff, DefaultRetryBackoff)
	setNum(&r.Retry.MaxWait, DefaultRetryMaxWait)
	setNum(&r.Breaker.Failures, DefaultBreakerFailures)
	if r.Breaker.ErrorRate == 0 {
		r.Breaker.ErrorRate = DefaultBreakerErrorRate
	}
	setNum(&r.Breaker.MinRequests, DefaultBreakerMinRequests)
	setNum(&r.Breaker.Window, DefaultBreakerWindow)
	setNum(&r.Breaker.Cooldown, DefaultBreakerCooldown)
	if c.Layers == nil {
		c.Layers = map[string]Layer{}
	}
	for name, l := range c.Layers {
		l.name = name
		c.Layers[name] = l
	}

	a := &c.Audit
	if a.Enabled == nil {
		t := true
		a.Enabled = &t
	}
	setNum(&a.BatchSize, DefaultAuditBatchSize)
	setNum(&a.FlushInterval, DefaultAuditFlushInterval)
	setNum(&a.QueueSize, DefaultAuditQueueSize)
	if a.Retention == nil {
		r := DefaultAuditRetention
		a.Retention = &r
	}
	setNum(&a.PurgeInterval, DefaultAuditPurgeInterval)
	setNum(&a.WriteTimeout, DefaultAuditWriteTimeout)
	setNum(&a.SpoolMaxBytes, DefaultAuditSpoolMaxBytes)
	setNum(&a.SpoolReplay, DefaultAuditSpoolReplay)

	setStr(&c.Store.Driver, DefaultStoreDriver)
	setStr(&c.Store.DSNEnv, DefaultPostgresDSNEnv)
	setNum(&c.Store.Timeout, DefaultStoreTimeout)
	setNum(&c.Store.StatementTimeout, DefaultStatementTimeout)
	setStr(&c.Secrets.MasterKeyEnv, DefaultMasterKeyEnv)
	setStr(&c.Secrets.PreviousMasterKeyEnv, DefaultPreviousMasterKeyEnv)

	c.Telemetry.applyDefaults()
	setStr(&c.Log.Level, DefaultLogLevel)
	setStr(&c.Log.Format, DefaultLogFormat)
}

func setStr(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setNum[T int | int64 | time.Duration](p *T, def T) {
	if *p == 0 {
		*p = def
	}
}

// IsEnabled reports whether the audit log is on (default true).
func (a Audit) IsEnabled() bool { return a.Enabled == nil || *a.Enabled }

// RetentionPeriod is how long records are kept (0: forever); unset means
// DefaultAuditRetention.
func (a Audit) RetentionPeriod() time.Duration {
	if a.Retention == nil {
		return DefaultAuditRetention
	}
	return *a.Retention
}
