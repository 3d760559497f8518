package identity_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rampart-ai/rampart/identity"
)

var noLockout = identity.LockoutConfig{MaxFailures: -1}

const hsSecret = "0123456789abcdef0123456789abcdef-secret"

func writePEM(t *testing.T, pub crypto.PublicKey) (string, []byte) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	p := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims, hdr map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func baseClaims(iss, aud string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": iss, "aud": aud, "sub": "alice", "tenant": "acme", "role": "developer",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix()}
}

func noneToken(claims jwt.MapClaims) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

func TestStaticJWT(t *testing.T) {
	t.Setenv("RAMPART_TEST_HS", hsSecret)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaFile, rsaPEM := writePEM(t, &rsaKey.PublicKey)
	ecFile, _ := writePEM(t, &ecKey.PublicKey)
	edFile, _ := writePEM(t, edPub)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)

	db := openDB(t)
	s := newSvc(t, db, identity.Config{
		JWT: identity.JWTConfig{HS256SecretEnv: "RAMPART_TEST_HS", PublicKeyFiles: []string{rsaFile, ecFile, edFile},
			Issuer: "https://issuer.test", Audience: "rampart"},
		// With a role_map only its values count: "developer" is listed.
		Claims:  identity.ClaimsConfig{RoleMap: map[string]string{"ai-admins": "admin", "developer": "developer"}},
		Lockout: noLockout,
	}, nil)
	mustTenant(t, s, "acme")
	iss, aud := "https://issuer.test", "rampart"
	with := func(k string, v any) jwt.MapClaims { c := baseClaims(iss, aud); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := baseClaims(iss, aud); delete(c, k); return c }

	good := map[string]string{
		"HS256": sign(t, jwt.SigningMethodHS256, []byte(hsSecret), baseClaims(iss, aud), nil),
		"RS256": sign(t, jwt.SigningMethodRS256, rsaKey, baseClaims(iss, aud), nil),
		"ES256": sign(t, jwt.SigningMethodES256, ecKey, baseClaims(iss, aud), nil),
		"EdDSA": sign(t, jwt.SigningMethodEdDSA, edPriv, baseClaims(iss, aud), nil),
		// within the default 30 s leeway
		"exp 10s ago": sign(t, jwt.SigningMethodRS256, rsaKey, with("exp", time.Now().Add(-10*time.Second).Unix()), nil),
		"role list":   sign(t, jwt.SigningMethodRS256, rsaKey, with("role", []string{"viewer", "ai-admins"}), nil),
	}
	for name, tok := range good {
		p, err := s.Authenticate(ctx, bearer(tok))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p.Tenant != "acme" || p.Subject != "alice" || p.Source != "jwt" {
			t.Errorf("%s: principal %+v", name, p)
		}
		if name == "role list" && p.Role != identity.RoleAdmin {
			t.Errorf("role mapping: %q", p.Role)
		}
	}

	bad := map[string]string{
		"alg none": noneToken(baseClaims(iss, aud)),
		"HS/RS confusion (RSA public key as HMAC secret)": sign(t, jwt.SigningMethodHS256, rsaPEM, baseClaims(iss, aud), nil),
		"HS384 not allowed": sign(t, jwt.SigningMethodHS384, []byte(hsSecret), baseClaims(iss, aud), nil),
		"RS512 not allowed": sign(t, jwt.SigningMethodRS512, rsaKey, baseClaims(iss, aud), nil),
		"wrong RSA key":     sign(t, jwt.SigningMethodRS256, otherRSA, baseClaims(iss, aud), nil),
		"wrong issuer":      sign(t, jwt.SigningMethodRS256, rsaKey, with("iss", "https://evil.test"), nil),
		"wrong audience":    sign(t, jwt.SigningMethodRS256, rsaKey, with("aud", "other"), nil),
		"expired":           sign(t, jwt.SigningMethodRS256, rsaKey, with("exp", time.Now().Add(-time.Minute).Unix()), nil),
		"nbf in future":     sign(t, jwt.SigningMethodRS256, rsaKey, with("nbf", time.Now().Add(time.Minute).Unix()), nil),
		"iat in future":     sign(t, jwt.SigningMethodRS256, rsaKey, with("iat", time.Now().Add(time.Minute).Unix()), nil),
		"no exp":            sign(t, jwt.SigningMethodRS256, rsaKey, without("exp"), nil),
		"no tenant":         sign(t, jwt.SigningMethodRS256, rsaKey, without("tenant"), nil),
		"unknown tenant":    sign(t, jwt.SigningMethodRS256, rsaKey, with("tenant", "ghost"), nil),
		"unmapped role":     sign(t, jwt.SigningMethodRS256, rsaKey, with("role", "superuser"), nil),
		// role_map is set: a raw role name outside it is not a role.
		"raw admin role with role_map": sign(t, jwt.SigningMethodRS256, rsaKey, with("role", "admin"), nil),
		// allow_global is off: a signed token cannot make itself global.
		"global tenant":    sign(t, jwt.SigningMethodRS256, rsaKey, with("tenant", "*"), nil),
		"tampered payload": good["RS256"][:len(good["RS256"])-4] + "AAAA",
		"garbage":          "not.a.jwt",
	}
	for name, tok := range bad {
		if _, err := s.Authenticate(ctx, bearer(tok)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("%s: err = %v, want ErrInvalidCredentials", name, err)
		}
	}
}

// TestHSRSConfusionRSAOnly: with only an RSA key configured, an HS256 token
// signed with the PEM public key is rejected by the alg list itself.
func TestHSRSConfusionRSAOnly(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	f, pemBytes := writePEM(t, &rsaKey.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	s := newSvc(t, openDB(t), identity.Config{JWT: identity.JWTConfig{PublicKeyFiles: []string{f}}}, nil)
	mustTenant(t, s, "acme")
	for _, secret := range [][]byte{pemBytes, der} {
		tok := sign(t, jwt.SigningMethodHS256, secret, baseClaims("x", "y"), nil)
		if _, err := s.Authenticate(ctx, bearer(tok)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("confusion token accepted: %v", err)
		}
	}
	if got := s.AllowedAlgorithms()["jwt"]; len(got) != 1 || got[0] != "RS256" {
		t.Fatalf("allowed algs = %v", got)
	}
}

// oidcProvider is an httptest OIDC provider serving discovery and a JWKS
// whose keys can be rotated.
type oidcProvider struct {
	srv  *httptest.Server
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
	hits int
}

func newOIDCProvider(t *testing.T) *oidcProvider {
	p := &oidcProvider{keys: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks",
			"authorization_endpoint": p.srv.URL + "/auth", "token_endpoint": p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.hits++
		var ks []map[string]string
		for kid, k := range p.keys {
			ks = append(ks, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": ks})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *oidcProvider) setKeys(keys map[string]*rsa.PrivateKey) {
	p.mu.Lock()
	p.keys = keys
	p.mu.Unlock()
}

func TestOIDC(t *testing.T) {
	prov := newOIDCProvider(t)
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	prov.setKeys(map[string]*rsa.PrivateKey{"kid1": k1})
	s := newSvc(t, openDB(t), identity.Config{OIDC: identity.OIDCConfig{Issuer: prov.srv.URL, Audience: "rampart",
		JWKSRefetch: time.Millisecond}, Lockout: noLockout}, nil)
	mustTenant(t, s, "acme")
	iss := prov.srv.URL
	with := func(k string, v any) jwt.MapClaims { c := baseClaims(iss, "rampart"); c[k] = v; return c }

	tok := sign(t, jwt.SigningMethodRS256, k1, baseClaims(iss, "rampart"), map[string]any{"kid": "kid1"})
	p, err := s.Authenticate(ctx, bearer(tok))
	if err != nil {
		t.Fatalf("valid OIDC token: %v", err)
	}
	if p.Source != "oidc" || p.Role != identity.RoleDeveloper || p.Tenant != "acme" {
		t.Fatalf("principal %+v", p)
	}

	bad := map[string]string{
		"unknown kid":    sign(t, jwt.SigningMethodRS256, k2, baseClaims(iss, "rampart"), map[string]any{"kid": "kid2"}),
		"alg none":       noneToken(baseClaims(iss, "rampart")),
		"HS256":          sign(t, jwt.SigningMethodHS256, []byte(hsSecret), baseClaims(iss, "rampart"), map[string]any{"kid": "kid1"}),
		"wrong audience": sign(t, jwt.SigningMethodRS256, k1, with("aud", "other"), map[string]any{"kid": "kid1"}),
		"wrong issuer":   sign(t, jwt.SigningMethodRS256, k1, with("iss", "https://evil.test"), map[string]any{"kid": "kid1"}),
		"expired":        sign(t, jwt.SigningMethodRS256, k1, with("exp", time.Now().Add(-time.Minute).Unix()), map[string]any{"kid": "kid1"}),
		"nbf in future":  sign(t, jwt.SigningMethodRS256, k1, with("nbf", time.Now().Add(time.Minute).Unix()), map[string]any{"kid": "kid1"}),
	}
	for name, tok := range bad {
		if _, err := s.Authenticate(ctx, bearer(tok)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("%s: err = %v, want ErrInvalidCredentials", name, err)
		}
	}

	// Rotation: the provider now publishes kid2; a token with the new kid
	// makes the key set refetch the JWKS and verifies.
	prov.setKeys(map[string]*rsa.PrivateKey{"kid1": k1, "kid2": k2})
	time.Sleep(5 * time.Millisecond) // past jwks_refetch
	tok2 := sign(t, jwt.SigningMethodRS256, k2, baseClaims(iss, "rampart"), map[string]any{"kid": "kid2"})
	if _, err := s.Authenticate(ctx, bearer(tok2)); err != nil {
		t.Fatalf("token signed with the rotated-in key: %v", err)
	}
	// kid1 retired at the provider: still in the cached set until the next
	// refetch, which happens on the next unknown kid.
	prov.setKeys(map[string]*rsa.PrivateKey{"kid2": k2})
	if _, err := s.Authenticate(ctx, bearer(tok2)); err != nil {
		t.Fatal(err)
	}
}

func TestOIDCDiscoveryDownFailsClosed(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	s := newSvc(t, openDB(t), identity.Config{OIDC: identity.OIDCConfig{Issuer: srv.URL, Audience: "rampart"}}, nil)
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	tok := sign(t, jwt.SigningMethodRS256, k, baseClaims(srv.URL, "rampart"), nil)
	if _, err := s.Authenticate(ctx, bearer(tok)); !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("discovery down: %v", err)
	}
	if err := s.Discover(ctx); err == nil {
		t.Fatal("Discover succeeded against a 404 provider")
	}
}

// TestOIDCUnknownKidFlood: tokens with made-up kids refetch the provider's
// key set at most once per jwks_refetch, and known keys keep verifying.
func TestOIDCUnknownKidFlood(t *testing.T) {
	prov := newOIDCProvider(t)
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	prov.setKeys(map[string]*rsa.PrivateKey{"kid1": k1})
	s := newSvc(t, openDB(t), identity.Config{OIDC: identity.OIDCConfig{Issuer: prov.srv.URL, Audience: "rampart",
		JWKSRefetch: time.Hour}, Lockout: noLockout}, nil)
	mustTenant(t, s, "acme")
	iss := prov.srv.URL
	good := sign(t, jwt.SigningMethodRS256, k1, baseClaims(iss, "rampart"), map[string]any{"kid": "kid1"})
	if _, err := s.Authenticate(ctx, bearer(good)); err != nil {
		t.Fatal(err)
	}
	before := s.JWKSFetches()
	for i := 0; i < 200; i++ {
		tok := sign(t, jwt.SigningMethodRS256, k1, baseClaims(iss, "rampart"), map[string]any{"kid": fmt.Sprintf("made-up-%d", i)})
		if _, err := s.Authenticate(ctx, bearer(tok)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("made-up kid %d: %v", i, err)
		}
	}
	if n := s.JWKSFetches() - before; n > 0 {
		t.Fatalf("200 made-up kids fetched the key set %d times within jwks_refetch", n)
	}
	if _, err := s.Authenticate(ctx, bearer(good)); err != nil {
		t.Fatalf("known key after the flood: %v", err)
	}
}

// TestJWTGlobalTenantOptIn: claims.allow_global lets a token be global.
func TestJWTGlobalTenantOptIn(t *testing.T) {
	t.Setenv("RAMPART_TEST_HS", hsSecret)
	for _, allow := range []bool{false, true} {
		s := newSvc(t, openDB(t), identity.Config{JWT: identity.JWTConfig{HS256SecretEnv: "RAMPART_TEST_HS"},
			Claims: identity.ClaimsConfig{AllowGlobal: allow}, Lockout: noLockout}, nil)
		c := baseClaims("", "")
		delete(c, "iss")
		delete(c, "aud")
		c["tenant"], c["role"] = "*", "admin"
		p, err := s.Authenticate(ctx, bearer(sign(t, jwt.SigningMethodHS256, []byte(hsSecret), c, nil)))
		if allow && (err != nil || !p.Global()) {
			t.Fatalf("allow_global: %v %+v", err, p)
		}
		if !allow && !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("global token without allow_global: %v", err)
		}
	}
}
