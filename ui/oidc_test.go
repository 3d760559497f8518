package ui_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rampart-ai/rampart/config"
)

// idp is an OpenID Connect provider for tests: discovery, JWKS, an
// authorization endpoint that signs "alice" in at once, and a token
// endpoint that checks the PKCE verifier.
type idp struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey
	mu   sync.Mutex
	code map[string]grant // by code
	// nonce, when set, replaces the nonce in issued tokens (an attack).
	nonce string
	// iss is the issuer URL (default: the server's URL); the browser test
	// names it by localhost, another site than the gateway's 127.0.0.1.
	iss string
	// interactive answers the authorization request with a page whose
	// link goes back (a person signing in), not with a redirect.
	interactive bool
}

func (p *idp) issuer() string {
	if p.iss != "" {
		return p.iss
	}
	return p.srv.URL
}

type grant struct {
	challenge, nonce, redirect, client string
}

func newIDP(t *testing.T) *idp {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{key: k, code: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.issuer(), "jwks_uri": p.issuer() + "/jwks",
			"authorization_endpoint": p.issuer() + "/auth", "token_endpoint": p.issuer() + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}}})
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
			!strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := "code-" + q.Get("state")[:8]
		p.mu.Lock()
		p.code[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri"), client: q.Get("client_id")}
		p.mu.Unlock()
		back := q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		if p.interactive {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, `<!doctype html><title>Provider</title><a id="continue" href="`+html.EscapeString(back)+`">Continue as alice</a>`)
			return
		}
		http.Redirect(w, r, back, http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		g, ok := p.code[r.PostForm.Get("code")]
		delete(p.code, r.PostForm.Get("code")) // codes are single-use
		nonce := p.nonce
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostForm.Get("redirect_uri") != g.redirect ||
			r.PostForm.Get("client_id") != g.client || r.PostForm.Get("grant_type") != "authorization_code" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		if nonce == "" {
			nonce = g.nonce
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": p.issuer(), "aud": g.client, "sub": "alice",
			"tenant": "acme", "role": "admin", "nonce": nonce, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(k)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id_token": s, "token_type": "Bearer"})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// follow makes GET requests through the browser's jar until a non-redirect
// answer (at most 5 hops), returning the last answer and its URL.
func (b *browser) follow(start string) (answer, string) {
	b.e.t.Helper()
	u := start
	for i := 0; i < 5; i++ {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := b.c.Do(req)
		if err != nil {
			b.e.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a := answer{resp.StatusCode, resp.Header, string(body)}
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			return a, u
		}
		next, _ := url.Parse(u)
		nu, _ := next.Parse(loc)
		u = nu.String()
	}
	b.e.t.Fatal("too many redirects")
	return answer{}, ""
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// Sign-in with the identity provider: authorization code flow with PKCE,
// the ID token verified by the gateway's identity layer; state bound to
// the browser, nonce checked, codes single-use.
func TestOIDCSignIn(t *testing.T) {
	p := newIDP(t)
	cfg := testConfig(t)
	cfg.Layers["identity"] = config.Layer{Options: map[string]any{
		"lockout": map[string]any{"max_failures": -1},
		"oidc":    map[string]any{"issuer": p.srv.URL, "audience": "rampart-console"},
	}}
	e := newEnv(t, cfg, false)
	e.tenant("acme")
	e.tenant("other")
	acmeID, _ := e.newKey("acme", "user")
	otherID, _ := e.newKey("other", "user")

	b := e.browser()
	if a := b.do("GET", "/ui/login", nil, nil); !strings.Contains(a.body, "/ui/oidc/start") {
		t.Fatal("the sign-in page offers no identity provider")
	}
	a, at := b.follow(e.srv.URL + "/ui/oidc/start")
	if a.code != 200 || !strings.Contains(at, "/ui/oidc/callback") || !strings.Contains(a.body, `http-equiv="refresh"`) {
		t.Fatalf("callback: %d at %s\n%s", a.code, at, a.body)
	}
	k := b.do("GET", "/ui/keys", nil, nil)
	if k.code != 200 || !strings.Contains(k.body, "oidc:alice") || !strings.Contains(k.body, acmeID) || strings.Contains(k.body, otherID) {
		t.Fatalf("keys page as alice (acme admin by token): %d oidc %v acme %v other %v", k.code,
			strings.Contains(k.body, "oidc:alice"), strings.Contains(k.body, acmeID), strings.Contains(k.body, otherID))
	}

	// Login CSRF: an attacker starts a sign-in and sends the victim the
	// callback URL; the victim's browser lacks the state cookie.
	attacker := e.browser()
	start, _ := http.NewRequest("GET", e.srv.URL+"/ui/oidc/start", nil)
	resp, err := attacker.c.Do(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authResp, err := attacker.c.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	authResp.Body.Close()
	callback := authResp.Header.Get("Location")
	victim := e.browser()
	va, _ := victim.follow(callback)
	if strings.Contains(va.body, "You are signed in") || victim.do("GET", "/ui/keys", nil, nil).code == 200 {
		t.Error("a callback URL from another browser signed the victim in")
	}
	// In the browser that started it, it completes once; the state and
	// the code are then spent.
	if aa, _ := attacker.follow(callback); !strings.Contains(aa.body, "You are signed in") {
		t.Error("the starting browser's own callback did not sign in")
	}
	fresh := e.browser()
	fresh.jar.SetCookies(mustURL(e.srv.URL+"/ui/oidc/"), []*http.Cookie{{Name: "rampart_ui_oidc", Value: mustURL(callback).Query().Get("state"), Path: "/ui/oidc/"}})
	if aa, _ := fresh.follow(callback); strings.Contains(aa.body, "You are signed in") {
		t.Error("a spent state (replayed with its cookie) signed in")
	}

	// A token whose nonce is not this sign-in's is refused.
	p.mu.Lock()
	p.nonce = "replayed-nonce"
	p.mu.Unlock()
	b3 := e.browser()
	if a, at := b3.follow(e.srv.URL + "/ui/oidc/start"); !strings.Contains(at, "/ui/login?m=oidc") && !strings.Contains(a.body, "failed") {
		t.Errorf("wrong nonce: %d at %s", a.code, at)
	}
	if b3.do("GET", "/ui/keys", nil, nil).code == 200 {
		t.Error("a token with a foreign nonce signed in")
	}
}
