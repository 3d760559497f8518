package identity

import (
	"errors"
	"fmt"
	"time"
)

// Config configures authentication. The identity layer's config section
// decodes into it; the admin API uses the same service.
type Config struct {
	// RequireAuth rejects requests without credentials (401). Default true.
	// When false, a request without credentials passes with no identity;
	// a request WITH credentials is still verified (a bad key is a 401).
	RequireAuth *bool `yaml:"require_auth" json:"require_auth"`
	// CacheTTL is how long a verified key stays in the in-memory cache
	// before it is read from the store again. It bounds how long a
	// revocation made on another replica can go unnoticed when the
	// generation poll fails. Default 5s.
	CacheTTL time.Duration `yaml:"cache_ttl" json:"cache_ttl"`
	// CacheSize bounds the number of cached keys (LRU). Default 10000.
	CacheSize int `yaml:"cache_size" json:"cache_size"`
	// GenerationPoll is how often the store's identity generation (bumped
	// by every revocation, rotation, expiry change and tenant change) is
	// read; a change drops the whole cache. Revocations on another replica
	// take effect within this interval (and always within CacheTTL).
	// Default 1s.
	GenerationPoll time.Duration `yaml:"generation_poll" json:"generation_poll"`
	// LastUsedFlush is how often coalesced "last used" times are written
	// to the store. Default 30s.
	LastUsedFlush time.Duration `yaml:"last_used_flush" json:"last_used_flush"`
	// StoreTimeout bounds every store call made to authenticate a request
	// (key and tenant lookups): a hung store answers 503 after it instead
	// of stalling requests. Default 2s.
	StoreTimeout time.Duration `yaml:"store_timeout" json:"store_timeout"`
	// CacheGrace is how long a key (or tenant) verified before keeps
	// authenticating while the store cannot be reached: past cache_ttl, a
	// failed lookup falls back to the cached entry if it was read at most
	// CacheGrace ago and no revocation (generation change) was seen since.
	// Counted in rampart_identity_cache_grace_total. Default 5m; -1
	// disables (a store outage then fails closed at once).
	CacheGrace time.Duration `yaml:"cache_grace" json:"cache_grace"`
	// BootstrapAdminKeyHash, when set, is the hex HMAC-SHA256(pepper, key)
	// of the global admin key created on the first start of an empty store
	// (so the key itself never touches the machine). Unset: a key is
	// generated and printed once to stderr.
	BootstrapAdminKeyHash string `yaml:"bootstrap_admin_key_hash" json:"bootstrap_admin_key_hash"`
	// Lockout limits failed authentications per client IP.
	Lockout LockoutConfig `yaml:"lockout" json:"lockout"`
	// JWT verifies Bearer JWTs with static keys (shared secret or PEM
	// public keys).
	JWT JWTConfig `yaml:"jwt" json:"jwt"`
	// OIDC verifies Bearer JWTs from an OpenID Connect provider
	// (discovery + JWKS, key rotation followed automatically).
	OIDC OIDCConfig `yaml:"oidc" json:"oidc"`
	// Claims maps JWT claims (both JWT and OIDC) to tenant, role, subject.
	Claims ClaimsConfig `yaml:"claims" json:"claims"`
	// MTLS maps verified client certificates to identities.
	MTLS MTLSConfig `yaml:"mtls" json:"mtls"`
}

// LockoutConfig limits failed authentications per client IP.
type LockoutConfig struct {
	// MaxFailures within Window lock the IP out. Default 10. -1 disables.
	MaxFailures int `yaml:"max_failures" json:"max_failures"`
	// Window over which failures are counted. Default 1m.
	Window time.Duration `yaml:"window" json:"window"`
	// Duration of the lockout (429 with Retry-After). Default 5m.
	Duration time.Duration `yaml:"duration" json:"duration"`
	// MaxTracked bounds the number of IPs tracked (LRU). Default 100000.
	MaxTracked int `yaml:"max_tracked" json:"max_tracked"`
}

// JWTConfig verifies JWTs with locally configured keys.
type JWTConfig struct {
	// HS256SecretEnv names the environment variable holding an HMAC
	// secret (at least 32 bytes). Tokens with alg HS256 are verified with it.
	HS256SecretEnv string `yaml:"hs256_secret_env" json:"hs256_secret_env"`
	// PublicKeyFiles are PEM files (PKIX public keys or certificates) of
	// RSA, ECDSA P-256 or Ed25519 keys. The key type fixes the accepted
	// alg: RSA→RS256, P-256→ES256, Ed25519→EdDSA.
	PublicKeyFiles []string `yaml:"public_key_files" json:"public_key_files"`
	// Issuer, when set, must equal the token's iss.
	Issuer string `yaml:"issuer" json:"issuer"`
	// Audience, when set, must be in the token's aud.
	Audience string `yaml:"audience" json:"audience"`
	// Leeway is the allowed clock skew for exp/nbf/iat. Default 30s.
	Leeway time.Duration `yaml:"leeway" json:"leeway"`
}

// OIDCConfig verifies JWTs from an OpenID Connect provider.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration. Empty: OIDC off.
	Issuer string `yaml:"issuer" json:"issuer"`
	// Audience must be in the token's aud (usually the client id). Required.
	Audience string `yaml:"audience" json:"audience"`
	// Algorithms accepted. Default [RS256]. Allowed: RS256, ES256, EdDSA.
	Algorithms []string `yaml:"algorithms" json:"algorithms"`
	// Leeway is the allowed clock skew for exp/nbf. Default 30s.
	Leeway time.Duration `yaml:"leeway" json:"leeway"`
	// JWKSRefetch is the least time between two fetches of the provider's
	// key set: a token no cached key verifies (an unknown kid, a bad
	// signature) refetches it at most this often, so a flood of made-up
	// kids cannot turn into a flood of requests to the provider. Default
	// 10s.
	JWKSRefetch time.Duration `yaml:"jwks_refetch" json:"jwks_refetch"`
}

// ClaimsConfig maps JWT claims to an identity.
type ClaimsConfig struct {
	// Tenant is the claim holding the tenant id. Default "tenant".
	Tenant string `yaml:"tenant" json:"tenant"`
	// Role is the claim holding the role (a string or a list of strings;
	// the highest mapped role wins). Default "role".
	Role string `yaml:"role" json:"role"`
	// Subject is the claim holding the user id. Default "sub".
	Subject string `yaml:"subject" json:"subject"`
	// RoleMap maps claim values to rampart roles, e.g. {"ai-admins":
	// "admin"}. Values that are already role names map to themselves.
	RoleMap map[string]string `yaml:"role_map" json:"role_map"`
	// DefaultRole is used when the token has no mappable role. Empty: such
	// tokens are rejected.
	DefaultRole string `yaml:"default_role" json:"default_role"`
	// DefaultTenant is used when the token has no tenant claim. Empty:
	// such tokens are rejected.
	DefaultTenant string `yaml:"default_tenant" json:"default_tenant"`
	// AllowGlobal lets a token name the global tenant "*" (manage every
	// tenant). Off by default: a token claiming tenant "*" is rejected, so
	// whoever can get a token signed for some tenant cannot make it global
	// unless the operator opted in.
	AllowGlobal bool `yaml:"allow_global" json:"allow_global"`
}

// MTLSConfig maps verified client certificates (the TLS listener must
// request and verify them) to identities.
type MTLSConfig struct {
	// From is what names the client: "cn" (subject common name, default),
	// "san_dns", "san_email" or "san_uri" (first matching SAN).
	From string `yaml:"from" json:"from"`
	// Identities maps the name to a tenant and role. A verified
	// certificate whose name is not listed is rejected.
	Identities map[string]MTLSIdentity `yaml:"identities" json:"identities"`
}

// MTLSIdentity is what one client certificate name maps to.
type MTLSIdentity struct {
	Tenant string `yaml:"tenant" json:"tenant"`
	Role   string `yaml:"role" json:"role"`
}

// Defaults returns the configuration with every default filled in.
func Defaults() Config {
	var c Config
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.RequireAuth == nil {
		t := true
		c.RequireAuth = &t
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 5 * time.Second
	}
	if c.CacheSize == 0 {
		c.CacheSize = 10000
	}
	if c.GenerationPoll == 0 {
		c.GenerationPoll = time.Second
	}
	if c.LastUsedFlush == 0 {
		c.LastUsedFlush = 30 * time.Second
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = 2 * time.Second
	}
	if c.CacheGrace == 0 {
		c.CacheGrace = 5 * time.Minute
	}
	if c.Lockout.MaxFailures == 0 {
		c.Lockout.MaxFailures = 10
	}
	if c.Lockout.Window == 0 {
		c.Lockout.Window = time.Minute
	}
	if c.Lockout.Duration == 0 {
		c.Lockout.Duration = 5 * time.Minute
	}
	if c.Lockout.MaxTracked == 0 {
		c.Lockout.MaxTracked = 100000
	}
	if c.JWT.Leeway == 0 {
		c.JWT.Leeway = 30 * time.Second
	}
	if c.OIDC.Leeway == 0 {
		c.OIDC.Leeway = 30 * time.Second
	}
	if c.OIDC.JWKSRefetch == 0 {
		c.OIDC.JWKSRefetch = 10 * time.Second
	}
	if len(c.OIDC.Algorithms) == 0 {
		c.OIDC.Algorithms = []string{"RS256"}
	}
	if c.Claims.Tenant == "" {
		c.Claims.Tenant = "tenant"
	}
	if c.Claims.Role == "" {
		c.Claims.Role = "role"
	}
	if c.Claims.Subject == "" {
		c.Claims.Subject = "sub"
	}
	if c.MTLS.From == "" {
		c.MTLS.From = "cn"
	}
}

// Validate checks c with its defaults applied, as NewService does, and
// reports every problem; it has no side effects (the identity layer's
// engine.ConfigValidator).
func (c Config) Validate() error {
	c.applyDefaults()
	return c.validate()
}

// validate checks a defaulted configuration.
func (c *Config) validate() error {
	var errs []error
	if c.CacheTTL < 0 || c.GenerationPoll < 0 || c.LastUsedFlush < 0 {
		errs = append(errs, errors.New("cache_ttl, generation_poll and last_used_flush must be positive"))
	}
	if c.StoreTimeout < 0 || c.StoreTimeout > time.Minute {
		errs = append(errs, errors.New("store_timeout must be positive and at most 1m"))
	}
	if c.CacheGrace < -1 || c.CacheGrace > 24*time.Hour {
		errs = append(errs, errors.New("cache_grace must be between 0 and 24h (-1: off)"))
	}
	if c.CacheSize < 1 {
		errs = append(errs, errors.New("cache_size must be at least 1"))
	}
	if c.Lockout.Window < 0 || c.Lockout.Duration < 0 || c.Lockout.MaxTracked < 1 {
		errs = append(errs, errors.New("lockout window/duration must be positive and max_tracked at least 1"))
	}
	if c.JWT.Leeway < 0 || c.OIDC.Leeway < 0 {
		errs = append(errs, errors.New("leeway must not be negative"))
	}
	if c.JWT.Leeway > 5*time.Minute || c.OIDC.Leeway > 5*time.Minute {
		errs = append(errs, errors.New("leeway above 5m is not allowed"))
	}
	if c.Claims.DefaultTenant == GlobalTenant && !c.Claims.AllowGlobal {
		errs = append(errs, errors.New(`claims.default_tenant "*" needs claims.allow_global: true`))
	}
	if c.OIDC.JWKSRefetch < 0 {
		errs = append(errs, errors.New("oidc.jwks_refetch must not be negative"))
	}
	if c.OIDC.Issuer != "" && c.OIDC.Audience == "" {
		errs = append(errs, errors.New("oidc.audience is required when oidc.issuer is set"))
	}
	for _, a := range c.OIDC.Algorithms {
		switch a {
		case "RS256", "ES256", "EdDSA":
		default:
			errs = append(errs, fmt.Errorf("oidc.algorithms: %q not allowed (RS256, ES256, EdDSA)", a))
		}
	}
	for k, v := range c.Claims.RoleMap {
		if !ValidRole(v) {
			errs = append(errs, fmt.Errorf("claims.role_map[%q]: unknown role %q", k, v))
		}
	}
	if c.Claims.DefaultRole != "" && !ValidRole(c.Claims.DefaultRole) {
		errs = append(errs, fmt.Errorf("claims.default_role: unknown role %q", c.Claims.DefaultRole))
	}
	switch c.MTLS.From {
	case "cn", "san_dns", "san_email", "san_uri":
	default:
		errs = append(errs, fmt.Errorf("mtls.from: %q (cn, san_dns, san_email, san_uri)", c.MTLS.From))
	}
	for name, id := range c.MTLS.Identities {
		if !ValidRole(id.Role) || id.Tenant == "" {
			errs = append(errs, fmt.Errorf("mtls.identities[%q]: needs a tenant and a known role", name))
		}
	}
	if c.BootstrapAdminKeyHash != "" && len(c.BootstrapAdminKeyHash) != 64 {
		errs = append(errs, errors.New("bootstrap_admin_key_hash must be 64 hex characters"))
	}
	return errors.Join(errs...)
}
