package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
)

// TestLockoutEveryRoute: failed authentications on every route that
// authenticates — model routes, /v1/scan, /mcp/{server}, /admin/*,
// /metrics, and the console's own credentials through Gateway.AuthFailed —
// count toward one lockout of the address; then bad credentials get 429
// on each of them and valid credentials from the same address still pass.
func TestLockoutEveryRoute(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.MCP.Servers = []config.MCPServer{{Name: "matrix", URL: fakeMCPServer(t).URL}}
	cfg.MCP.Pin = new(bool)
	g := newGateway(t, cfg)
	m := acmeEnv(t, g)
	global := m.global
	_, user := m.newKey("acme", identity.RoleUser)
	_, scrape := m.newKey(identity.GlobalTenant, identity.RoleMetrics)
	const nat = "198.51.100.20:4000"
	bad, _ := identity.NewKey()
	routes := []struct{ method, path, body, valid string }{
		{http.MethodPost, "/v1/chat/completions", `{"model":"rampart-demo","messages":[{"role":"user","content":"hi"}]}`, user},
		{http.MethodPost, "/v1/scan", `{"text":"hello"}`, user},
		{http.MethodPost, "/mcp/matrix", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, user},
		{http.MethodGet, "/admin/keys", "", global},
		{http.MethodGet, "/metrics", "", scrape},
	}
	console := func() *identity.Denial {
		r := httptest.NewRequest(http.MethodPost, "/ui/login", nil)
		r.RemoteAddr = nat
		return g.AuthFailed(r)
	}
	// Ten failures spread over every route and the console hook.
	n := 0
	for n < 10 {
		for _, rt := range routes {
			if n == 10 {
				break
			}
			if w := doFrom(g, nat, rt.method, rt.path, bad, rt.body); w.Code != http.StatusUnauthorized {
				t.Fatalf("bad key on %s (failure %d): %d %s", rt.path, n, w.Code, trim(w.Body.String()))
			}
			n++
		}
		if n < 10 {
			if d := console(); d != nil {
				t.Fatalf("console failure %d throttled already", n)
			}
			n++
		}
	}
	for _, rt := range routes {
		w := doFrom(g, nat, rt.method, rt.path, bad, rt.body)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Errorf("bad key on %s after the lockout: %d %s", rt.path, w.Code, trim(w.Body.String()))
		}
		if w := doFrom(g, nat, rt.method, rt.path, rt.valid, rt.body); w.Code != http.StatusOK {
			t.Errorf("valid key on %s from the throttled address: %d %s", rt.path, w.Code, trim(w.Body.String()))
		}
		if w := doFrom(g, "198.51.100.21:4000", rt.method, rt.path, bad, rt.body); w.Code != http.StatusUnauthorized {
			t.Errorf("bad key on %s from another address: %d", rt.path, w.Code)
		}
	}
	if d := console(); d == nil || d.Status != http.StatusTooManyRequests {
		t.Errorf("console hook after the lockout: %+v", d)
	}
}

// TestLockoutConsoleSignIn: signing in to the /ui/ console with an API key
// counts toward the same lockout (the key is checked by the admin API with
// the browser's address); once the address is throttled, bad sign-ins and
// bad API keys get 429, and a valid key still signs in.
func TestLockoutConsoleSignIn(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	g := newGateway(t, cfg)
	global := adminKey(g)
	const nat = "198.51.100.30:4000"
	bad, _ := identity.NewKey()
	login := func(key string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/ui/login", strings.NewReader(url.Values{"key": {key}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = nat
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		return w
	}
	for i := 0; i < 10; i++ {
		if w := login(bad); w.Code != http.StatusUnauthorized {
			t.Fatalf("bad sign-in %d: %d %s", i, w.Code, trim(w.Body.String()))
		}
	}
	if w := login(bad); w.Code != http.StatusTooManyRequests {
		t.Errorf("bad sign-in after the lockout: %d %s", w.Code, trim(w.Body.String()))
	}
	if w := doFrom(g, nat, http.MethodGet, "/admin/keys", bad, ""); w.Code != http.StatusTooManyRequests {
		t.Errorf("bad API key after console failures: %d", w.Code)
	}
	if w := login(global); w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Set-Cookie"), "=") {
		t.Errorf("valid sign-in from the throttled address: %d %v", w.Code, w.Header())
	}
}

// TestLockoutConsoleCookie: console session cookies the gateway does not
// hold (guessed, expired, from before a restart) are failed credentials:
// each clears the cookie and counts toward the same per-address lockout as
// a bad API key; once throttled, such requests get 429 with Retry-After,
// bad API keys from that address too, and a valid key still signs in.
func TestLockoutConsoleCookie(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	g := newGateway(t, cfg)
	global := adminKey(g)
	const nat = "198.51.100.40:4000"
	guess := func(i int) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/ui/keys", nil)
		r.Header.Set("Accept", "text/html")
		r.AddCookie(&http.Cookie{Name: "rampart_ui", Value: fmt.Sprintf("guessed-session-%02d", i)})
		r.RemoteAddr = nat
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		return w
	}
	for i := 0; i < 10; i++ {
		w := guess(i)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/login" {
			t.Fatalf("guessed cookie %d: %d %v", i, w.Code, w.Header())
		}
		if sc := w.Header().Get("Set-Cookie"); !strings.Contains(sc, "rampart_ui=;") || !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("guessed cookie %d not cleared: %q", i, sc)
		}
	}
	w := guess(10)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("guessed cookie after the lockout: %d %v %s", w.Code, w.Header(), trim(w.Body.String()))
	}
	bad, _ := identity.NewKey()
	if w := doFrom(g, nat, http.MethodPost, "/v1/scan", bad, `{"text":"hello"}`); w.Code != http.StatusTooManyRequests {
		t.Errorf("bad API key after guessed cookies: %d", w.Code)
	}
	if w := doFrom(g, "198.51.100.41:4000", http.MethodPost, "/v1/scan", bad, `{"text":"hello"}`); w.Code != http.StatusUnauthorized {
		t.Errorf("bad API key from another address: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodPost, "/ui/login", strings.NewReader(url.Values{"key": {global}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = nat
	lw := httptest.NewRecorder()
	g.ServeHTTP(lw, r)
	if lw.Code != http.StatusSeeOther || !strings.Contains(lw.Header().Get("Set-Cookie"), "rampart_ui=") {
		t.Errorf("valid sign-in from the throttled address: %d %v", lw.Code, lw.Header())
	}
}
