package ui

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// oidcCookie binds a sign-in attempt to the browser that started it. It
// is SameSite=Lax: the provider's redirect back is a cross-site
// navigation, on which a Strict cookie would not be sent.
const oidcCookie = "rampart_ui_oidc"

// oidcPendingTTL bounds how long a started sign-in may take.
const oidcPendingTTL = 10 * time.Minute

type oidcPending struct {
	verifier, nonce string
	expires         time.Time
}

// oidcClient runs the authorization code flow with PKCE (S256) against
// the configured issuer.
type oidcClient struct {
	cfg    OIDC
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	pending map[string]oidcPending // by state
	disc    *discovery
	discAt  time.Time
}

type discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
}

func newOIDCClient(cfg OIDC, c *http.Client, now func() time.Time) *oidcClient {
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"profile", "email"}
	}
	return &oidcClient{cfg: cfg, client: c, now: now, pending: map[string]oidcPending{}}
}

// discover reads the provider's configuration (cached for an hour).
func (o *oidcClient) discover(ctx context.Context) (*discovery, error) {
	o.mu.Lock()
	if o.disc != nil && o.now().Sub(o.discAt) < time.Hour {
		d := o.disc
		o.mu.Unlock()
		return d, nil
	}
	o.mu.Unlock()
	u := strings.TrimRight(o.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("oidc: discovery answered " + resp.Status)
	}
	var d discovery
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&d); err != nil {
		return nil, err
	}
	if strings.TrimRight(d.Issuer, "/") != strings.TrimRight(o.cfg.Issuer, "/") || d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" {
		return nil, errors.New("oidc: discovery document does not match the issuer or lacks endpoints")
	}
	o.mu.Lock()
	o.disc, o.discAt = &d, o.now()
	o.mu.Unlock()
	return &d, nil
}

// begin records a new attempt and returns its state, PKCE challenge and
// nonce.
func (o *oidcClient) begin() (state, challenge, nonce string, ok bool) {
	state, nonce = randomToken(), randomToken()
	verifier := randomToken()
	sum := sha256.Sum256([]byte(verifier))
	challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if len(o.pending) >= 10000 {
		for k, p := range o.pending {
			if !now.Before(p.expires) {
				delete(o.pending, k)
			}
		}
		if len(o.pending) >= 10000 {
			return "", "", "", false
		}
	}
	o.pending[state] = oidcPending{verifier: verifier, nonce: nonce, expires: now.Add(oidcPendingTTL)}
	return state, challenge, nonce, true
}

// take removes and returns a live attempt.
func (o *oidcClient) take(state string) (oidcPending, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.pending[state]
	delete(o.pending, state)
	return p, ok && o.now().Before(p.expires)
}

// redirectURI is the callback on the host the browser used (the provider
// only accepts registered redirect URIs, so a forged Host fails there).
func redirectURI(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/ui/oidc/callback"
}

// oidcStart sends the browser to the provider.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	if h.oidc == nil {
		h.errorPage(w, r, nil, http.StatusNotFound, "oidc_off", "Sign-in with an identity provider is not configured (layers.identity.oidc).")
		return
	}
	d, err := h.oidc.discover(r.Context())
	if err != nil {
		h.o.Log.Warn("ui: oidc discovery", "err", err)
		h.errorPage(w, r, nil, http.StatusBadGateway, "oidc_unavailable", "The identity provider could not be reached.")
		return
	}
	state, challenge, nonce, ok := h.oidc.begin()
	if !ok {
		h.errorPage(w, r, nil, http.StatusServiceUnavailable, "busy", "Too many sign-ins are in progress; try again later.")
		return
	}
	q := url.Values{"response_type": {"code"}, "client_id": {h.oidc.cfg.ClientID}, "redirect_uri": {redirectURI(r)},
		"scope": {"openid " + strings.Join(h.oidc.cfg.Scopes, " ")}, "state": {state}, "nonce": {nonce},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state, Path: "/ui/oidc/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(oidcPendingTTL / time.Second)})
	sep := "?"
	if strings.Contains(d.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	http.Redirect(w, r, d.AuthorizationEndpoint+sep+q.Encode(), http.StatusFound)
}

// oidcCallback exchanges the code (with the PKCE verifier) for an ID
// token, checks its nonce, and signs in with it: the gateway's identity
// layer verifies the token (issuer, audience, signature, expiry) on this
// and every later console request.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if h.oidc == nil {
		h.errorPage(w, r, nil, http.StatusNotFound, "oidc_off", "Sign-in with an identity provider is not configured (layers.identity.oidc).")
		return
	}
	fail := func(why string) {
		h.o.Log.Warn("ui: oidc sign-in failed", "why", why)
		if h.authFailed(w, r) {
			return
		}
		http.Redirect(w, r, "/ui/login?m=oidc", http.StatusSeeOther)
	}
	q := r.URL.Query()
	state := q.Get("state")
	ck, err := r.Cookie(oidcCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/ui/oidc/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		fail("state does not match this browser's sign-in")
		return
	}
	p, ok := h.oidc.take(state)
	if !ok {
		fail("unknown or expired state")
		return
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		fail("provider error " + q.Get("error"))
		return
	}
	d, err := h.oidc.discover(r.Context())
	if err != nil {
		fail("discovery: " + err.Error())
		return
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI(r)},
		"client_id": {h.oidc.cfg.ClientID}, "code_verifier": {p.verifier}}
	if h.oidc.cfg.ClientSecret != "" {
		form.Set("client_secret", h.oidc.cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, d.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		fail("token request: " + err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := h.oidc.client.Do(req)
	if err != nil {
		fail("token endpoint: " + err.Error())
		return
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok) != nil || tok.IDToken == "" {
		fail("token endpoint answered " + resp.Status + " without an id_token")
		return
	}
	claims, ok := jwtClaims(tok.IDToken)
	if !ok || subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(p.nonce)) != 1 {
		fail("nonce does not match")
		return
	}
	ttl := h.o.SessionTTL
	if claims.Exp > 0 {
		ttl = min(ttl, time.Unix(claims.Exp, 0).Sub(h.o.Now()))
	}
	if ttl <= 0 {
		fail("token already expired")
		return
	}
	h.startSessionVia(w, r, http.Header{"Authorization": {"Bearer " + tok.IDToken}}, ttl, true)
}

type idClaims struct {
	Nonce string `json:"nonce"`
	Exp   int64  `json:"exp"`
}

// jwtClaims reads a JWT's payload without verifying it: only the nonce
// and expiry are taken from it, and the gateway verifies the token itself
// before the session is created.
func jwtClaims(tok string) (idClaims, bool) {
	var c idClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, false
	}
	return c, json.Unmarshal(b, &c) == nil
}
