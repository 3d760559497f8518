package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/netguard"
)

// FieldError is one configuration problem.
type FieldError struct {
	// Source is the file name (or DefaultSource); empty for Validate on a
	// Config not read from a file.
	Source string
	// Line is the 1-based YAML line, 0 when unknown.
	Line int
	// Field is the path of the offending setting, e.g. "upstreams[1].base_url".
	Field string
	Msg   string

	path []any // Field as map keys and sequence indexes, for lineOf
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Validate checks the effective configuration (after defaults) and reports
// every problem, joined; each is a *FieldError naming the field path.
func (c *Config) Validate() error {
	errs := c.validate()
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

type checker struct{ errs []*FieldError }

func (v *checker) add(p []any, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: fieldName(p), Msg: fmt.Sprintf(format, args...), path: p})
}

func fieldName(p []any) string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			b.WriteString("[" + strconv.Itoa(s) + "]")
		}
	}
	return b.String()
}

func at(base []any, more ...any) []any {
	return append(append(make([]any, 0, len(base)+len(more)), base...), more...)
}

var (
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	layerNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// LayerModes and FailureModes are the accepted layers.<name>.mode and
// .failure values (matching engine.Mode and engine.FailureMode).
var (
	LayerModes   = []string{"enforce", "monitor", "off"}
	FailureModes = []string{"closed", "open"}
	LogLevels    = []string{"debug", "info", "warn", "error"}
	LogFormats   = []string{"json", "text"}
	TLSVersions  = []string{"1.2", "1.3"}
	StoreDrivers = []string{"sqlite", "postgres"}
)

func (c *Config) validate() []*FieldError {
	v := &checker{}
	c.validateServer(v)
	if strings.TrimSpace(c.DataDir) == "" {
		v.add([]any{"data_dir"}, "must not be empty")
	}
	c.validateUpstreams(v)
	c.validateRouting(v)
	c.validatePricing(v)
	for _, name := range sortedKeys(c.Layers) {
		l := c.Layers[name]
		p := []any{"layers", name}
		if !layerNameRE.MatchString(name) {
			v.add(p, "layer name %q must be lower-case letters, digits and _", name)
		}
		oneOf(v, at(p, "mode"), l.Mode, LayerModes, true)
		oneOf(v, at(p, "failure"), l.Failure, FailureModes, true)
	}
	a := c.Audit
	positive(v, []any{"audit", "batch_size"}, int64(a.BatchSize))
	positive(v, []any{"audit", "queue_size"}, int64(a.QueueSize))
	duration(v, []any{"audit", "flush_interval"}, a.FlushInterval)
	if a.HMACKeyEnv != "" && !envNameRE.MatchString(a.HMACKeyEnv) {
		v.add([]any{"audit", "hmac_key_env"}, "%q is not an environment variable name", a.HMACKeyEnv)
	}
	if a.Retention != nil && *a.Retention < 0 {
		v.add([]any{"audit", "retention"}, "%s must not be negative (0 keeps records forever)", *a.Retention)
	}
	duration(v, []any{"audit", "purge_interval"}, a.PurgeInterval)
	duration(v, []any{"audit", "write_timeout"}, a.WriteTimeout)
	duration(v, []any{"audit", "spool_replay"}, a.SpoolReplay)
	if a.SpoolMaxBytes < -1 {
		v.add([]any{"audit", "spool_max_bytes"}, "must be positive (-1: no spool)")
	}
	oneOf(v, []any{"store", "driver"}, c.Store.Driver, StoreDrivers, false)
	duration(v, []any{"store", "timeout"}, c.Store.Timeout)
	duration(v, []any{"store", "statement_timeout"}, c.Store.StatementTimeout)
	if c.Store.Timeout > time.Minute {
		v.add([]any{"store", "timeout"}, "%s is too long: at most 1m (requests wait for it)", c.Store.Timeout)
	}
	if c.Store.StatementTimeout > 0 && c.Store.StatementTimeout < c.Store.Timeout {
		v.add([]any{"store", "statement_timeout"}, "%s is shorter than store.timeout (%s)", c.Store.StatementTimeout, c.Store.Timeout)
	}
	if !envNameRE.MatchString(c.Store.DSNEnv) {
		v.add([]any{"store", "dsn_env"}, "%q is not an environment variable name", c.Store.DSNEnv)
	}
	c.validateSecrets(v)
	c.Telemetry.validate(v)
	c.MCP.validate(v)
	oneOf(v, []any{"log", "level"}, c.Log.Level, LogLevels, false)
	oneOf(v, []any{"log", "format"}, c.Log.Format, LogFormats, false)
	return v.errs
}

func (c *Config) validateServer(v *checker) {
	s := c.Server
	p := []any{"server"}
	if host, port, err := net.SplitHostPort(s.Listen); err != nil {
		v.add(at(p, "listen"), "%q is not host:port (%v)", s.Listen, stripAddr(err))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(at(p, "listen"), "%q has an invalid port %q", s.Listen, port)
	} else if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		v.add(at(p, "listen"), "%q has an invalid host %q", s.Listen, host)
	}
	positive(v, at(p, "max_body_bytes"), s.MaxBodyBytes)
	positive(v, at(p, "max_response_bytes"), s.MaxResponseBytes)
	positive(v, at(p, "max_header_bytes"), int64(s.MaxHeaderBytes))
	duration(v, at(p, "read_header_timeout"), s.ReadHeaderTimeout)
	duration(v, at(p, "read_timeout"), s.ReadTimeout)
	duration(v, at(p, "idle_timeout"), s.IdleTimeout)
	duration(v, at(p, "shutdown_grace"), s.ShutdownGrace)
	c.validateNetwork(v)
}

// validateNetwork checks the network guards of the server section: write
// deadline, connection caps, trusted proxies, TLS and CORS.
func (c *Config) validateNetwork(v *checker) {
	s := c.Server
	p := []any{"server"}
	duration(v, at(p, "write_timeout"), s.WriteTimeout)
	positive(v, at(p, "max_conns_per_ip"), int64(s.MaxConnsPerIP))
	positive(v, at(p, "max_conns"), int64(s.MaxConns))
	for i, cidr := range s.TrustedProxies {
		if _, err := netguard.ParsePrefix(cidr); err != nil {
			v.add(at(p, "trusted_proxies", i), "%v", err)
		}
	}
	t, tp := s.TLS, at(p, "tls")
	if t.Enabled() && (t.CertFile == "" || t.KeyFile == "") {
		v.add(tp, "cert_file and key_file must be set together")
	}
	if t.ClientCAFile != "" && !t.Enabled() {
		v.add(at(tp, "client_ca_file"), "needs cert_file and key_file (mTLS is part of HTTPS)")
	}
	oneOf(v, at(tp, "min_version"), t.MinVersion, TLSVersions, false)
	duration(v, at(tp, "reload_interval"), t.ReloadInterval)
	duration(v, at(tp, "hsts_max_age"), t.HSTSMaxAge)
	cp := at(p, "cors")
	for i, o := range s.CORS.AllowedOrigins {
		if err := netguard.CheckOrigin(o); err != nil {
			v.add(at(cp, "allowed_origins", i), "%v", err)
		} else if o == "*" && s.CORS.AllowCredentials {
			v.add(at(cp, "allow_credentials"), "cannot be combined with origin \"*\"")
		}
	}
	duration(v, at(cp, "max_age"), s.CORS.MaxAge)
}

// SecretNameRE is what a stored secret's name looks like (the secrets
// package enforces the same rule).
var SecretNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func (c *Config) validateSecrets(v *checker) {
	s := c.Secrets
	for _, e := range []struct{ key, val string }{
		{"master_key_env", s.MasterKeyEnv}, {"previous_master_key_env", s.PreviousMasterKeyEnv},
	} {
		if !envNameRE.MatchString(e.val) {
			v.add([]any{"secrets", e.key}, "%q is not an environment variable name", e.val)
		}
	}
	if s.MasterKeyFile != "" && s.MasterKeyFile == s.PreviousMasterKeyFile {
		v.add([]any{"secrets", "previous_master_key_file"}, "must differ from master_key_file")
	}
}

func (c *Config) validateUpstreams(v *checker) {
	seen := map[string]int{}
	for i, u := range c.Upstreams {
		p := []any{"upstreams", i}
		if u.Name == "" {
			v.add(at(p, "name"), "must not be empty")
		} else if j, dup := seen[u.Name]; dup {
			v.add(at(p, "name"), "%q is already the name of upstreams[%d]", u.Name, j)
		} else {
			seen[u.Name] = i
		}
		if _, ok := Providers[u.Provider]; !ok {
			if u.Provider == "" {
				v.add(at(p, "provider"), "must be set (openai or anthropic)")
			} else {
				v.add(at(p, "provider"), "unknown provider %q (want openai or anthropic)", u.Provider)
			}
		}
		checkBaseURL(v, at(p, "base_url"), u.BaseURL)
		switch {
		case u.APIKeySecret != "" && u.APIKeyEnv != "":
			v.add(at(p, "api_key_secret"), "set api_key_env or api_key_secret, not both")
		case u.APIKeySecret != "":
			if !SecretNameRE.MatchString(u.APIKeySecret) {
				v.add(at(p, "api_key_secret"), "%q is not a secret name (letters, digits, '.', '_', '-'; at most 128)", u.APIKeySecret)
			}
		case !envNameRE.MatchString(u.APIKeyEnv):
			v.add(at(p, "api_key_env"), "%q is not an environment variable name", u.APIKeyEnv)
		}
		for j, m := range u.Models {
			if _, err := path.Match(m, ""); err != nil || m == "" {
				v.add(at(p, "models", j), "%q is not a valid glob pattern", m)
			}
		}
		for j, r := range u.Routes {
			if !strings.HasPrefix(r, "/") {
				v.add(at(p, "routes", j), "%q must start with /", r)
			}
		}
		for from, to := range u.ModelAliases {
			if from == "" || to == "" || len(from) > 256 || len(to) > 256 {
				v.add(at(p, "model_aliases"), "%q: %q: names must be 1-256 bytes", from, to)
			}
		}
		if u.Weight < 0 || u.Weight > 1000000 {
			v.add(at(p, "weight"), "%d outside [0, 1000000]", u.Weight)
		}
		if u.Priority < -1000 || u.Priority > 1000 {
			v.add(at(p, "priority"), "%d outside [-1000, 1000]", u.Priority)
		}
		duration(v, at(p, "timeout"), u.Timeout)
		duration(v, at(p, "stream_idle_timeout"), u.StreamIdleTimeout)
		duration(v, at(p, "connect_timeout"), u.ConnectTimeout)
		validateUpstreamAuth(v, p, u)
	}
}

// AuthModes are the accepted upstreams[].auth values.
var AuthModes = []string{"bearer", "x-api-key", "api-key", "entra", "x-goog-api-key"}

// guidRE matches an Entra tenant or client id (a GUID); tenant ids may also
// be a domain name.
var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
)

// IsAzureOpenAIHost reports whether host is an Azure OpenAI endpoint.
func IsAzureOpenAIHost(host string) bool {
	host = strings.ToLower(host)
	for _, s := range []string{".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com", ".openai.azure.us", ".openai.azure.cn"} {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// validateUpstreamAuth checks auth, entra and what Azure OpenAI needs:
// a deployment URL carries ?api-version=, and the credential goes in the
// api-key header or as an Entra token (Azure refuses an API key sent as
// Bearer).
func validateUpstreamAuth(v *checker, p []any, u Upstream) {
	oneOf(v, at(p, "auth"), u.Auth, AuthModes, true)
	if u.Auth == "entra" {
		e := u.Entra
		switch {
		case e == nil:
			v.add(at(p, "entra"), "auth: entra needs an entra section (tenant_id, client_id, client_secret_env)")
		default:
			if !guidRE.MatchString(e.TenantID) && !domainRE.MatchString(e.TenantID) {
				v.add(at(p, "entra", "tenant_id"), "%q is not a tenant id (a GUID or a domain)", e.TenantID)
			}
			if !guidRE.MatchString(e.ClientID) {
				v.add(at(p, "entra", "client_id"), "%q is not a client id (a GUID)", e.ClientID)
			}
			if e.ClientSecretEnv != "" && !envNameRE.MatchString(e.ClientSecretEnv) {
				v.add(at(p, "entra", "client_secret_env"), "%q is not an environment variable name", e.ClientSecretEnv)
			}
			if e.TokenURL != "" {
				checkBaseURL(v, at(p, "entra", "token_url"), e.TokenURL)
			}
		}
	} else if u.Entra != nil {
		v.add(at(p, "entra"), "is only used with auth: entra")
	}
	if (u.Auth == "api-key" || u.Auth == "entra") && u.Provider != "openai" {
		v.add(at(p, "auth"), "%s is for Azure OpenAI: provider must be openai", u.Auth)
	}
	if u.Provider == "gemini" && u.Auth != "" && u.Auth != "x-goog-api-key" && u.Auth != "bearer" {
		v.add(at(p, "auth"), "a gemini upstream takes its key as x-goog-api-key (the default) or a bearer token")
	}
	bu, err := url.Parse(u.BaseURL)
	if err != nil || !IsAzureOpenAIHost(bu.Hostname()) {
		return
	}
	if u.Auth != "api-key" && u.Auth != "entra" {
		v.add(at(p, "auth"), "Azure OpenAI takes its key in the api-key header: set auth: api-key (or auth: entra for Microsoft Entra ID)")
	}
	if strings.Contains(bu.Path, "/openai/deployments/") && bu.Query().Get("api-version") == "" {
		v.add(at(p, "base_url"), "an Azure OpenAI deployment URL needs ?api-version=..., e.g. %s?api-version=2024-10-21", strings.TrimRight(bu.Scheme+"://"+bu.Host+bu.Path, "/"))
	}
}

// Strategies are the accepted routing strategies.
var Strategies = []string{"fallback", "round_robin", "weighted", "least_in_flight"}

func (c *Config) validateRouting(v *checker) {
	r := c.Routing
	oneOf(v, []any{"routing", "strategy"}, r.Strategy, Strategies, true)
	for i, g := range r.Groups {
		p := []any{"routing", "groups", i}
		oneOf(v, at(p, "strategy"), g.Strategy, Strategies, false)
		if len(g.Models) == 0 {
			v.add(at(p, "models"), "must list at least one model pattern")
		}
		for j, m := range g.Models {
			if _, err := path.Match(m, ""); err != nil || m == "" {
				v.add(at(p, "models", j), "%q is not a valid glob pattern", m)
			}
		}
	}
	if r.Retry.MaxAttempts < 0 || r.Retry.MaxAttempts > 10 {
		v.add([]any{"routing", "retry", "max_attempts"}, "%d outside [0, 10]", r.Retry.MaxAttempts)
	}
	duration(v, []any{"routing", "retry", "deadline"}, r.Retry.Deadline)
	duration(v, []any{"routing", "retry", "backoff"}, r.Retry.Backoff)
	duration(v, []any{"routing", "retry", "max_wait"}, r.Retry.MaxWait)
	b := r.Breaker
	if b.Failures < -1 || b.Failures > 1000 {
		v.add([]any{"routing", "breaker", "failures"}, "%d outside [-1, 1000]", b.Failures)
	}
	if b.ErrorRate < 0 || b.ErrorRate > 1 {
		v.add([]any{"routing", "breaker", "error_rate"}, "%v outside [0, 1]", b.ErrorRate)
	}
	if b.MinRequests < 0 || b.MinRequests > 1000000 {
		v.add([]any{"routing", "breaker", "min_requests"}, "%d outside [0, 1000000]", b.MinRequests)
	}
	duration(v, []any{"routing", "breaker", "window"}, b.Window)
	duration(v, []any{"routing", "breaker", "cooldown"}, b.Cooldown)
}

func (c *Config) validatePricing(v *checker) {
	for i, pr := range c.Pricing.Prices {
		p := []any{"pricing", "prices", i}
		if len(pr.Models) == 0 {
			v.add(at(p, "models"), "must list at least one model pattern")
		}
		for j, m := range pr.Models {
			if _, err := path.Match(m, ""); err != nil || m == "" {
				v.add(at(p, "models", j), "%q is not a valid glob pattern", m)
			}
		}
		for _, f := range []struct {
			name string
			v    *float64
		}{{"input", &pr.Input}, {"output", &pr.Output}, {"cached_input", pr.CachedInput}} {
			if f.v != nil && (*f.v < 0 || *f.v > 100000 || *f.v != *f.v) {
				v.add(at(p, f.name), "%v outside [0, 100000] USD per 1M tokens", *f.v)
			}
		}
	}
}

func checkBaseURL(v *checker, p []any, raw string) {
	if raw == "" {
		v.add(p, "must be set, e.g. \"https://api.openai.com/v1\"")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.add(p, "%q is not an http(s) URL", raw)
	case u.User != nil:
		v.add(p, "%q must not contain credentials; name the key's environment variable in api_key_env", redactURL(u))
	case u.Fragment != "":
		v.add(p, "%q must not have a #fragment", raw)
	}
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}

func oneOf(v *checker, p []any, val string, allowed []string, emptyOK bool) {
	if val == "" && emptyOK {
		return
	}
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.add(p, "%q is not one of %s", val, strings.Join(allowed, ", "))
}

func positive(v *checker, p []any, n int64) {
	if n <= 0 {
		v.add(p, "%d must be positive", n)
	}
}

func duration(v *checker, p []any, d time.Duration) {
	if d <= 0 {
		v.add(p, "%s must be a positive duration such as \"30s\"", d)
	}
}

func stripAddr(err error) string {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return ae.Err
	}
	return err.Error()
}

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

func validHostname(h string) bool { return hostnameRE.MatchString(h) }
