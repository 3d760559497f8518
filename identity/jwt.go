package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
)

// maxTokenLen bounds a JWT we are willing to parse.
const maxTokenLen = 16 << 10

// jwtVerifier verifies Bearer JWTs from the static key source (jwt:) and
// the OIDC source (oidc:). Each source has its own strict list of
// accepted algorithms; "none" is never accepted.
type jwtVerifier struct {
	claims ClaimsConfig

	// static source
	static     bool
	staticIss  string
	hsSecret   []byte
	pubKeys    map[string][]jwt.VerificationKey // alg → keys
	staticAlgs []string
	parser     *jwt.Parser

	// oidc source
	oidcCfg   OIDCConfig
	oidcHTTP  *http.Client
	oidcMu    sync.Mutex
	oidcVer   *oidc.IDTokenVerifier
	oidcRetry time.Time
	oidcVal   *jwt.Validator
	jwks      *jwksKeySet
}

func newJWTVerifier(cfg Config) (*jwtVerifier, error) {
	v := &jwtVerifier{claims: cfg.Claims, oidcCfg: cfg.OIDC, pubKeys: map[string][]jwt.VerificationKey{}}
	j := cfg.JWT
	if j.HS256SecretEnv != "" {
		sec := os.Getenv(j.HS256SecretEnv)
		if len(sec) < 32 {
			return nil, fmt.Errorf("identity: jwt: %s must hold a secret of at least 32 bytes", j.HS256SecretEnv)
		}
		v.hsSecret = []byte(sec)
		v.staticAlgs = append(v.staticAlgs, "HS256")
	}
	for _, f := range j.PublicKeyFiles {
		alg, key, err := loadPublicKey(f)
		if err != nil {
			return nil, err
		}
		if len(v.pubKeys[alg]) == 0 {
			v.staticAlgs = append(v.staticAlgs, alg)
		}
		v.pubKeys[alg] = append(v.pubKeys[alg], key)
	}
	if len(v.staticAlgs) > 0 {
		v.static = true
		v.staticIss = j.Issuer
		opts := []jwt.ParserOption{
			jwt.WithValidMethods(v.staticAlgs),
			jwt.WithLeeway(j.Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
		}
		if j.Issuer != "" {
			opts = append(opts, jwt.WithIssuer(j.Issuer))
		}
		if j.Audience != "" {
			opts = append(opts, jwt.WithAudience(j.Audience))
		}
		v.parser = jwt.NewParser(opts...)
	}
	if cfg.OIDC.Issuer != "" {
		v.oidcHTTP = &http.Client{Timeout: 10 * time.Second}
		v.oidcVal = jwt.NewValidator(
			jwt.WithLeeway(cfg.OIDC.Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(cfg.OIDC.Issuer),
			jwt.WithAudience(cfg.OIDC.Audience),
		)
	}
	return v, nil
}

// loadPublicKey reads a PEM public key or certificate and returns the one
// algorithm it may verify.
func loadPublicKey(file string) (string, jwt.VerificationKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", nil, fmt.Errorf("identity: jwt: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return "", nil, fmt.Errorf("identity: jwt: %s: no PEM block", file)
	}
	var pub crypto.PublicKey
	switch blk.Type {
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return "", nil, fmt.Errorf("identity: jwt: %s: %w", file, err)
		}
		pub = c.PublicKey
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return "", nil, fmt.Errorf("identity: jwt: %s: %w", file, err)
		}
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		if err != nil {
			return "", nil, fmt.Errorf("identity: jwt: %s: %w", file, err)
		}
	default:
		return "", nil, fmt.Errorf("identity: jwt: %s: PEM type %q is not a public key", file, blk.Type)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", nil, fmt.Errorf("identity: jwt: %s: RSA key shorter than 2048 bits", file)
		}
		return "RS256", k, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", nil, fmt.Errorf("identity: jwt: %s: only P-256 ECDSA keys (ES256)", file)
		}
		return "ES256", k, nil
	case ed25519.PublicKey:
		return "EdDSA", k, nil
	}
	return "", nil, fmt.Errorf("identity: jwt: %s: unsupported key type %T", file, pub)
}

func (v *jwtVerifier) enabled() bool { return v.static || v.oidcCfg.Issuer != "" }

// keyfunc returns the keys for the token's alg; the alg was already
// checked against the allowed list by the parser (WithValidMethods), and
// HMAC is only ever given the shared secret, never a public key.
func (v *jwtVerifier) keyfunc(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == "HS256" {
		if v.hsSecret == nil {
			return nil, errors.New("HS256 not configured")
		}
		return v.hsSecret, nil
	}
	keys := v.pubKeys[alg]
	if len(keys) == 0 {
		return nil, fmt.Errorf("no key for alg %s", alg)
	}
	return jwt.VerificationKeySet{Keys: keys}, nil
}

func (s *Service) authJWT(ctx context.Context, tok string, now time.Time) (*Principal, error) {
	v := s.jwt
	if !v.enabled() {
		return nil, fmt.Errorf("%w: bearer token is not a rampart key and JWT is not configured", ErrInvalidCredentials)
	}
	if len(tok) > maxTokenLen || strings.Count(tok, ".") != 2 {
		return nil, fmt.Errorf("%w: malformed token", ErrInvalidCredentials)
	}
	var claims jwt.MapClaims
	source := "jwt"
	if v.useOIDC(tok) {
		source = "oidc"
		c, err := v.verifyOIDC(ctx, tok)
		if err != nil {
			return nil, err
		}
		claims = c
	} else {
		claims = jwt.MapClaims{}
		if _, err := v.parser.ParseWithClaims(tok, claims, v.keyfunc); err != nil {
			return nil, fmt.Errorf("%w: jwt: %v", ErrInvalidCredentials, err)
		}
	}
	tenant, role, subject, err := v.mapClaims(claims)
	if err != nil {
		return nil, err
	}
	return s.principalFor(ctx, source, tenant, role, subject, now)
}

// useOIDC routes a token by its (unverified) issuer: tokens naming the
// OIDC issuer go to the OIDC source, all others to the static source. The
// chosen source then verifies everything, issuer included.
func (v *jwtVerifier) useOIDC(tok string) bool {
	if v.oidcCfg.Issuer == "" {
		return false
	}
	if !v.static {
		return true
	}
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
		return false
	}
	return c.Issuer == v.oidcCfg.Issuer
}

// oidcVerifier returns the OIDC verifier, running discovery on first use.
// A failed discovery is retried at most every 10 s; until it succeeds,
// OIDC tokens fail closed (ErrUnavailable → 503).
func (v *jwtVerifier) oidcVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.oidcMu.Lock()
	defer v.oidcMu.Unlock()
	if v.oidcVer != nil {
		return v.oidcVer, nil
	}
	if time.Now().Before(v.oidcRetry) {
		return nil, ErrUnavailable
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), v.oidcHTTP), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, v.oidcCfg.Issuer)
	if err != nil {
		v.oidcRetry = time.Now().Add(10 * time.Second)
		return nil, fmt.Errorf("%w: oidc discovery: %v", ErrUnavailable, err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKS == "" {
		v.oidcRetry = time.Now().Add(10 * time.Second)
		return nil, fmt.Errorf("%w: oidc discovery: no jwks_uri", ErrUnavailable)
	}
	v.jwks = &jwksKeySet{url: meta.JWKS, client: v.oidcHTTP, every: v.oidcCfg.JWKSRefetch}
	v.oidcVer = oidc.NewVerifier(v.oidcCfg.Issuer, v.jwks, &oidc.Config{
		ClientID:             v.oidcCfg.Audience,
		SupportedSigningAlgs: v.oidcCfg.Algorithms,
		// exp and nbf are checked below with the configured leeway.
		SkipExpiryCheck: true,
	})
	return v.oidcVer, nil
}

// Discover runs OIDC discovery now (e.g. at start) when OIDC is configured.
func (s *Service) Discover(ctx context.Context) error {
	if s.jwt.oidcCfg.Issuer == "" {
		return nil
	}
	_, err := s.jwt.oidcVerifier(ctx)
	return err
}

func (v *jwtVerifier) verifyOIDC(ctx context.Context, tok string) (jwt.MapClaims, error) {
	// The alg is checked here against the OIDC source's list (never
	// "none", never HMAC) before any key is looked at.
	hdr, err := tokenAlg(tok)
	if err != nil || !contains(v.oidcCfg.Algorithms, hdr) {
		return nil, fmt.Errorf("%w: oidc: algorithm not allowed", ErrInvalidCredentials)
	}
	ver, err := v.oidcVerifier(ctx)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, ErrUnavailable
		}
		return nil, err
	}
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	idt, err := ver.Verify(vctx, tok)
	if err != nil {
		return nil, fmt.Errorf("%w: oidc: %v", ErrInvalidCredentials, err)
	}
	claims := jwt.MapClaims{}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: oidc claims: %v", ErrInvalidCredentials, err)
	}
	if err := v.oidcVal.Validate(claims); err != nil {
		return nil, fmt.Errorf("%w: oidc: %v", ErrInvalidCredentials, err)
	}
	return claims, nil
}

// tokenAlg returns the alg of a compact JWS header without verifying.
func tokenAlg(tok string) (string, error) {
	t, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		return "", err
	}
	alg, _ := t.Header["alg"].(string)
	return alg, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mapClaims extracts tenant, role and subject from verified claims.
func (v *jwtVerifier) mapClaims(c jwt.MapClaims) (tenant, role, subject string, err error) {
	m := v.claims
	tenant, _ = c[m.Tenant].(string)
	if tenant == "" {
		tenant = m.DefaultTenant
	}
	if tenant == "" || (tenant != GlobalTenant && !ValidTenantID(tenant)) {
		return "", "", "", fmt.Errorf("%w: token has no valid tenant claim", ErrInvalidCredentials)
	}
	if tenant == GlobalTenant && !m.AllowGlobal {
		return "", "", "", fmt.Errorf("%w: token claims the global tenant, which claims.allow_global does not allow", ErrInvalidCredentials)
	}
	var vals []string
	switch r := c[m.Role].(type) {
	case string:
		vals = []string{r}
	case []any:
		for _, x := range r {
			if s, ok := x.(string); ok {
				vals = append(vals, s)
			}
		}
	}
	best := ""
	for _, val := range vals {
		mapped, ok := m.RoleMap[val]
		// Without a role_map, role names map to themselves; with one, only
		// its values count (a raw "admin" claim is not an admin).
		if !ok && len(m.RoleMap) == 0 && ValidRole(val) {
			mapped, ok = val, true
		}
		if ok && RoleRank(mapped) > RoleRank(best) {
			best = mapped
		}
	}
	if best == "" {
		best = m.DefaultRole
	}
	if best == "" {
		return "", "", "", fmt.Errorf("%w: token has no mappable role", ErrInvalidCredentials)
	}
	switch sv := c[m.Subject].(type) {
	case string:
		subject = sv
	case json.Number:
		subject = sv.String()
	case float64:
		subject = fmt.Sprint(sv)
	}
	if len(subject) > 256 {
		subject = subject[:256]
	}
	return tenant, best, subject, nil
}

// AllowedAlgorithms lists the algorithms each configured source accepts
// (for diagnostics).
func (s *Service) AllowedAlgorithms() map[string][]string {
	out := map[string][]string{}
	if s.jwt.static {
		a := append([]string(nil), s.jwt.staticAlgs...)
		sort.Strings(a)
		out["jwt"] = a
	}
	if s.jwt.oidcCfg.Issuer != "" {
		out["oidc"] = append([]string(nil), s.jwt.oidcCfg.Algorithms...)
	}
	return out
}
